// Compose variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
// `${VAR:?error}`, `${VAR:+alt}`, `$VAR` and `$$` for a literal dollar.

export type Vars = Record<string, string | undefined>;

export interface Interpolated {
  value: string;
  /** Variables used without a value or a default. */
  missing: string[];
}

export function interpolate(text: string, vars: Vars): Interpolated {
  const missing: string[] = [];
  const value = text.replace(
    PATTERN,
    (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === "$$") return "$";
      const name = (braced ?? bare) as string;
      const v = vars[name];
      const set = v !== undefined;
      const nonEmpty = set && v !== "";
      switch (op) {
        case ":-":
          return nonEmpty ? v : (arg ?? "");
        case "-":
          return set ? v : (arg ?? "");
        case ":+":
          return nonEmpty ? (arg ?? "") : "";
        case "+":
          return set ? (arg ?? "") : "";
        case ":?":
        case "?":
          if (op === "?" ? set : nonEmpty) return v as string;
          missing.push(name);
          return "";
        default:
          if (!set) missing.push(name);
          return v ?? "";
      }
    },
  );
  return { value, missing };
}

// --- internal ---

const PATTERN =
  /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
