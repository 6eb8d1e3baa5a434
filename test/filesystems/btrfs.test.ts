import { filesystemSuite, localDisk } from './suite.js';

await filesystemSuite('btrfs', {
  ...localDisk('btrfs'),
  otherDevice: "a btrfs subvolume's files report the subvolume's own device number, not the mount's",
});
