// Container paths as host paths (#28), on mount tables as the kernel writes them.
import { describe, expect, test } from "bun:test";
import { parseMountinfo, translate } from "../../src/core/hostpath.ts";

/** A dev container: its root is overlay, /workspaces a bind of the host's /home/alice/src. */
const CONTAINER = [
  "820 700 0:91 / / rw,relatime master:320 - overlay overlay rw,lowerdir=/x",
  "821 820 0:94 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
  "830 820 8:1 /home/alice/src /workspaces rw,relatime - ext4 /dev/sda1 rw",
  "831 820 8:1 /home/alice/my\\040docs /docs rw,relatime - ext4 /dev/sda1 rw",
  "832 820 8:2 /alice/data /data rw,relatime - ext4 /dev/sdb1 rw",
].join("\n");

/** The host: / is sda1; /home/shared is sdb1's root mounted there. */
const HOST = [
  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "23 22 0:5 / /dev rw - devtmpfs udev rw",
  "24 22 8:2 / /mnt/big rw,relatime shared:7 - ext4 /dev/sdb1 rw",
  "25 22 0:91 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw",
].join("\n");

describe("translate", () => {
  const c = parseMountinfo(CONTAINER);
  const h = parseMountinfo(HOST);

  test("a folder under a bind mount is the host's folder", () => {
    expect(translate("/workspaces/shop", c, h)).toBe("/home/alice/src/shop");
    expect(translate("/workspaces", c, h)).toBe("/home/alice/src");
  });

  test("escaped names, and a device mounted elsewhere on the host", () => {
    expect(translate("/docs/a", c, h)).toBe("/home/alice/my docs/a");
    expect(translate("/data/x", c, h)).toBe("/mnt/big/alice/data/x");
  });

  test("the container's own file system, or a prefix that is not a folder boundary, has none", () => {
    expect(translate("/tmp/proj", c, h)).toBeUndefined();
    expect(translate("/workspacesX/p", c, h)).toBeUndefined();
  });

  test("a device the host does not mount has none", () => {
    expect(
      translate("/data/x", c, parseMountinfo(HOST.split("\n").slice(0, 2).join("\n"))),
    ).toBeUndefined();
  });
});
