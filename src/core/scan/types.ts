// What `portctl scan` reports: host-bound ports found in a project's files, and the files it
// could not read.

export interface Finding {
  /** The host port (the one other projects collide with). */
  port: number;
  /** The name to register it under: Compose service, env key's stem, or script name. */
  service: string;
  /** `file:line`, relative to the scanned folder. */
  source: string;
  protocol: "tcp" | "udp";
  kind: "compose" | "env" | "script";
  /** The address the port is published on, when the file names one. */
  host_ip?: string;
  /** The Compose profiles of its service (published only when one is active); absent: always. */
  profiles?: string[];
}

export interface Problem {
  /** `file:line:column` where known. */
  source: string;
  message: string;
  /** Errors (an unparseable file) make `scan` exit 1; warnings are skipped entries. */
  severity: "error" | "warning";
}

export interface ScanResult {
  findings: Finding[];
  problems: Problem[];
}

export function at(file: string, line?: number, column?: number): string {
  return [file, line, column].filter((x) => x !== undefined).join(":");
}
