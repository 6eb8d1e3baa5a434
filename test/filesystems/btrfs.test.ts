import { filesystemSuite, localDisk } from './suite.js';

await filesystemSuite('btrfs', localDisk('btrfs'));
