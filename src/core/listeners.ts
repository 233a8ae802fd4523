// Every port something listens on, with its process where the OS lets us see it: the
// dashboard's "listening but not registered" section. One pass over the kernel's tables and
// one over the processes' open files (Linux), or one `lsof` (elsewhere); never per port.
import { z } from "zod";
import { portSchema } from "./fields.ts";
import { containerSchema } from "./model.ts";
import { kernelReader, readProcListeners, socketOwners } from "./probe.ts";

export const machineListenerSchema = z.object({
  port: portSchema,
  pid: z.number().int().positive().optional().describe("the owning process, when visible"),
  process: z.string().optional().describe("its command name, when visible"),
  container: containerSchema
    .optional()
    .describe("when the process is a container engine's proxy: the container publishing the port"),
});
export type MachineListener = z.infer<typeof machineListenerSchema>;

export function machineListeners(platform: NodeJS.Platform = process.platform): MachineListener[] {
  return platform === "linux" ? procListeners("/proc") : lsofListeners();
}

/** Linux: listening sockets from sock_diag (else `root/net/tcp{,6}`), owners from `root/<pid>/fd`. */
export function procListeners(root: string): MachineListener[] {
  const listeners = kernelReader()?.read() ?? readProcListeners(root);
  const owners = socketOwners(
    root,
    listeners.map((l) => l.inode),
  );
  const byPort = new Map<number, MachineListener>();
  for (const l of listeners) {
    const o = owners.get(l.inode);
    const owner = o && { pid: o.pid, ...(o.process ? { process: o.process } : {}) };
    const known = byPort.get(l.port);
    if (!known || (owner && known.pid === undefined))
      byPort.set(l.port, { port: l.port, ...owner });
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

// --- internal ---

/** macOS and others: `lsof -F` records, `p<pid>`, `c<command>`, `n<addr>:<port>`. */
function lsofListeners(): MachineListener[] {
  let out = "";
  try {
    const res = Bun.spawnSync(["lsof", "-nP", "-iTCP", "-sTCP:LISTEN", "-Fpcn"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    out = res.stdout.toString();
  } catch {
    return [];
  }
  const byPort = new Map<number, MachineListener>();
  let pid: number | undefined;
  let name: string | undefined;
  for (const field of out.split("\n")) {
    if (field.startsWith("p")) pid = Number(field.slice(1));
    else if (field.startsWith("c")) name = field.slice(1);
    else if (field.startsWith("n")) {
      const port = Number(field.slice(field.lastIndexOf(":") + 1));
      if (port > 0 && port < 65536 && !byPort.has(port)) {
        byPort.set(port, { port, ...(pid ? { pid } : {}), ...(name ? { process: name } : {}) });
      }
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}
