import { filesystemSuite, localDisk } from './suite.js';

await filesystemSuite('xfs', localDisk('xfs'));
