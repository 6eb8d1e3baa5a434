import { filesystemSuite, localDisk } from './suite.js';

await filesystemSuite('tmpfs', localDisk('tmpfs'));
