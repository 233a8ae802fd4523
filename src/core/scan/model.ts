// The one model of a Compose project: its files → merged services → published host ports.
// `scan`, `scan --register`, `scan --fix` and `run -- docker compose up` all read a project
// through loadComposeProject() / composeProjectAt() (project.ts) and nothing else.
import type { Problem } from "./types.ts";

export interface ComposeProject {
  /** The folder Compose works in: `.env` and a relative `COMPOSE_FILE` are read from here. */
  dir: string;
  /** The files that define the project, in merge order (absolute paths). */
  files: string[];
  /** Every file read for it: those, then the files `extends` and `include` pulled in. */
  read: string[];
  /** The merged services, in the order Compose lists them (included projects' last). */
  services: ComposeService[];
  /** Unreadable or unparseable files (errors); entries that publish no usable port (warnings). */
  problems: Problem[];
  /** The top-level `name:` of the project's files (the last one wins), interpolated. */
  name?: string;
  /** The variables of the project's env files (`.env`, or `--env-file`s), interpolated. */
  dotenv: Record<string, string>;
}

export interface ComposeService {
  name: string;
  /** After override files, `extends`, `!reset` and `!override`: what `docker compose up` publishes. */
  ports: PublishedPort[];
  /** `profiles:`: started only when one of them is active; empty: always. */
  profiles: string[];
}

/** One host port (a range `"9090-9091:80-81"` is one entry per port). */
export interface PublishedPort {
  host: number;
  /** The container port, when the entry names one. */
  target?: number;
  protocol: "tcp" | "udp";
  /** The address it is published on, when the entry names one (no brackets). */
  host_ip?: string;
  /**
   * Where the host port is written: the file (absolute), the line and the [start, end) offsets
   * of the YAML node that holds it. Through an alias or a merge key, that is the anchored node.
   */
  file: string;
  line: number;
  offset: [number, number];
  /** That node's value as written (`${WEB_PORT:-8080}:80`, or `8080` for `published: 8080`). */
  text: string;
  /**
   * The variable that sets the host port, when the host port is exactly one `${…}` or `$VAR`
   * (`${WEB_PORT:-${FALLBACK:-7800}}` → WEB_PORT, default "7800"): setting it moves the port.
   */
  variable?: { name: string; default?: string };
  /** Every variable the host port's text refers to, nested defaults included; [] for a literal. */
  variables: string[];
  /** A literal host port: its [start, end) in `text`, for rewriting it (`scan --fix`). */
  hostSpan?: [number, number];
  /** Set on every port of a host range (`"9000-9001:9000-9001"`). */
  range?: PortRange;
}

/** A host range: a block of `count` ports from `first`. */
export interface PortRange {
  first: number;
  count: number;
  /**
   * The variables that set its ends, when each end is exactly one
   * (`${CACHE_PORT:-9000}-${CACHE_PORT_END:-9001}`): setting both moves the range.
   */
  variables?: {
    start: { name: string; default?: string };
    end: { name: string; default?: string };
  };
  /** A literal host range: its [start, end) in `text` (`9000-9001`), for `scan --fix`. */
  span?: [number, number];
}
