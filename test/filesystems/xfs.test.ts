import { filesystemSuite, localActions } from './suite.js';

await filesystemSuite('xfs', {
  fsType: 'xfs',
  locality: 'local',
  verdict: 'holds',
  actions: localActions,
  modes: true,
  caseInsensitive: false,
  warns: false,
});
