import { filesystemSuite, localActions } from './suite.js';

await filesystemSuite('btrfs', {
  fsType: 'btrfs',
  locality: 'local',
  verdict: 'holds',
  actions: localActions,
  modes: true,
  caseInsensitive: false,
  warns: false,
});
