// Service names as environment variables (`web-api` → `WEB_API_PORT`): the one spelling that
// `portctl env`, `portctl run` and the Compose rewrite print, and the rule the daemon applies
// when a port is allocated or imported, so that `portctl env` can never fail on a name later:
// a name with no key (`数据库`) is refused, and so is one whose key another service of the same
// app and instance already has (`web_api` beside `web-api`; portcache.ts keeps that map).

/**
 * `postgres` → `POSTGRES_PORT`, `web-api` → `WEB_API_PORT`, `3d` → `_3D_PORT`, `café` →
 * `CAFE_PORT` (accents and ligatures transliterated: NFKD, then marks dropped, then the few
 * Latin letters that do not decompose, such as ø and ß); anything else becomes `_`.
 */
export function envKey(service: string): string {
  const key = `${transliterate(service).replace(/[^A-Z0-9]/g, "_")}_PORT`;
  return /^[0-9]/.test(key) ? `_${key}` : key;
}

/** `web-api` → `WEB_API_URL`: the variable of its URL under .localhost (names.ts). */
export function urlKey(service: string): string {
  return `${envKey(service).slice(0, -"_PORT".length)}_URL`;
}

/**
 * Why `service` cannot become an environment variable (following the word "service"), or
 * undefined when it can: `数据库` would be `____PORT`, and a second CJK name the same key.
 */
export function envKeyProblem(service: string): string | undefined {
  if (/[A-Z0-9]/.test(transliterate(service))) return undefined;
  return `'${service}' cannot be an environment variable: it has no Latin letter or digit (portctl env would print ${envKey(service)}); choose a name that has one`;
}

/** Upper-case ASCII where a Latin letter has an obvious spelling; other characters unchanged. */
export function transliterate(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/[ÆæØøÐðÞþĐđĦħıĸŁłŒœŊŋŦŧ]/g, (ch) => LETTERS[ch] ?? ch)
    .toUpperCase();
}

// --- internal ---

const LETTERS: Record<string, string> = {
  Æ: "AE",
  æ: "ae",
  Ø: "O",
  ø: "o",
  Ð: "D",
  ð: "d",
  Þ: "TH",
  þ: "th",
  Đ: "D",
  đ: "d",
  Ħ: "H",
  ħ: "h",
  ı: "i",
  ĸ: "k",
  Ł: "L",
  ł: "l",
  Œ: "OE",
  œ: "oe",
  Ŋ: "NG",
  ŋ: "ng",
  Ŧ: "T",
  ŧ: "t",
};
