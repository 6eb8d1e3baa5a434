import { filesystemSuite, localActions } from './suite.js';

await filesystemSuite('tmpfs', {
  fsType: 'tmpfs',
  locality: 'local',
  verdict: 'holds',
  actions: localActions,
  modes: true,
  caseInsensitive: false,
  warns: false,
});
