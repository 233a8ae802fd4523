// What `portctl run` executes, as a pure function of argv, the port and the nearest
// package.json: every row of the framework table, runners, package managers and their `--`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { parseArgv } from "../../src/cli/parse.ts";
import { FRAMEWORKS } from "../../src/cli/run/frameworks.ts";
import { fixedPort, lastCommand, planCommand } from "../../src/cli/run/plan.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "portctl-plan-"));
  const scripts = {
    dev: "vite",
    host: "vite --host",
    start: "NODE_ENV=development cross-env DEBUG=1 astro dev",
    chain: "npm run build:css && vite",
    piped: "vite | tee log",
    background: "tsc -w & vite",
    commented: "vite # the dev server",
    own: "vite --port 5000",
    build: "vite build",
    sb: "storybook dev",
    next: "next dev",
    runner: "npx --yes vite@7 dev",
  };
  writeFileSync(join(dir, "package.json"), JSON.stringify({ scripts }));
  mkdirSync(join(dir, "src", "deep"), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = (argv: string[], inject = true, cwd = dir) =>
  planCommand(argv, { port: 3100, inject, cwd });
const argv = (cmd: string[], inject = true, cwd = dir) => plan(cmd, inject, cwd).argv.join(" ");

describe("the framework table", () => {
  test.each([
    ["vite", "vite --port 3100 --strictPort"],
    ["vite dev --host", "vite dev --host --port 3100 --strictPort"],
    ["vite preview", "vite preview --port 3100 --strictPort"],
    ["vite build", "vite build"],
    ["astro dev", "astro dev --port 3100"],
    ["astro build", "astro build"],
    ["react-router dev", "react-router dev --port 3100 --strictPort"],
    ["ng serve", "ng serve --port 3100"],
    ["ng build", "ng build"],
    ["expo start", "expo start --port 3100"],
    ["expo", "expo --port 3100"],
    ["storybook dev", "storybook dev -p 3100"],
    ["webpack serve", "webpack serve --port 3100"],
    ["webpack --mode production", "webpack --mode production"],
    ["webpack-dev-server", "webpack-dev-server --port 3100"],
    ["next dev", "next dev"],
    ["nuxt dev", "nuxt dev"],
    ["rails server", "rails server"],
    ["./node_modules/.bin/vite", "./node_modules/.bin/vite --port 3100 --strictPort"],
    ["python manage.py runserver", "python manage.py runserver 3100"],
    ["python3 ./manage.py runserver --noreload", "python3 ./manage.py runserver --noreload 3100"],
    ["python3.11 -m django runserver", "python3.11 -m django runserver 3100"],
    ["django-admin runserver --settings s", "django-admin runserver --settings s 3100"],
    ["python manage.py migrate", "python manage.py migrate"],
    ["python -m uvicorn app:app", "python -m uvicorn app:app --port 3100"],
    ["uvicorn app:app --reload", "uvicorn app:app --reload --port 3100"],
    ["hugo server", "hugo server --port 3100"],
    ["hugo", "hugo"],
    ["bundle exec jekyll serve", "bundle exec jekyll serve --port 3100"],
    ["mkdocs serve", "mkdocs serve --dev-addr 127.0.0.1:3100"],
    ["php artisan serve", "php artisan serve --port 3100"],
    ["php -S localhost:{port}", "php -S localhost:3100"],
    ["gatsby develop", "gatsby develop --port 3100"],
    ["docusaurus start", "docusaurus start --port 3100"],
    ["remix vite:dev", "remix vite:dev --port 3100 --strictPort"],
    ["vinxi dev", "vinxi dev --port 3100"],
    ["uv run python manage.py runserver", "uv run python manage.py runserver 3100"],
    ["poetry run uvicorn main:app", "poetry run uvicorn main:app --port 3100"],
    ["mix phx.server", "mix phx.server"],
    ["./mvnw spring-boot:run", "./mvnw spring-boot:run"],
    ["./gradlew bootRun", "./gradlew bootRun"],
    ["air -c .air.toml", "air -c .air.toml"],
  ])("%s → %s", (cmd, expected) => {
    expect(argv(cmd.split(" "))).toBe(expected);
  });

  test("every row says what it adds and how a port the user chose is seen", () => {
    for (const fw of FRAMEWORKS) {
      // `php -S` always names its address itself; the others read PORT.
      const readsPort = [
        "next",
        "nuxt",
        "parcel",
        "serve",
        "http-server",
        "rails",
        "phoenix",
        "air",
      ];
      if (fw.name === "php" || readsPort.includes(fw.name)) {
        expect(fw.flags(1234)).toEqual([]);
        continue;
      }
      const added = [...fw.flags(1234), ...Object.values(fw.env?.(1234) ?? {})];
      expect(added.join(" ")).toContain("1234");
      expect(
        fw.portFlags.length + (fw.portEnv?.length ?? 0) + (fw.ownPort ? 1 : 0),
      ).toBeGreaterThan(0);
    }
  });

  test("flask run gets FLASK_RUN_PORT, not a flag; the user's own variable or --port wins", () => {
    expect(plan(["flask", "run"])).toEqual({
      argv: ["flask", "run"],
      injected: { tool: "flask", flags: [], env: { FLASK_RUN_PORT: "3100" } },
    });
    expect(plan(["python3", "-m", "flask", "--app", "hello", "run"]).injected?.env).toEqual({
      FLASK_RUN_PORT: "3100",
    });
    expect(plan(["flask", "run", "-p", "5001"]).ownPort).toEqual({ tool: "flask", port: "5001" });
    const env = { FLASK_RUN_PORT: "5002" };
    expect(planCommand(["flask", "run"], { port: 3100, inject: true, cwd: dir, env })).toEqual({
      argv: ["flask", "run"],
      ownPort: { tool: "flask", port: "5002" },
    });
    expect(plan(["flask", "routes"]).injected).toBeUndefined();
  });

  test("Spring Boot gets SERVER_PORT through Maven and Gradle; --server.port or the variable wins", () => {
    for (const cmd of [
      "mvn spring-boot:run",
      "./mvnw -q spring-boot:run",
      "mvn org.springframework.boot:spring-boot-maven-plugin:3.4.1:run",
      "gradle bootRun",
      "./gradlew --console=plain bootRun",
    ])
      expect(plan(cmd.split(" ")), cmd).toEqual({
        argv: cmd.split(" "),
        injected: { tool: "spring-boot", flags: [], env: { SERVER_PORT: "3100" } },
      });
    // Building, testing or packaging starts no server.
    for (const cmd of [
      "mvn package",
      "./mvnw spring-boot:build-image",
      "gradle bootJar",
      "gradle test",
    ])
      expect(plan(cmd.split(" ")), cmd).toEqual({ argv: cmd.split(" ") });
    const own = (cmd: string, env = {}) =>
      planCommand(cmd.split(" "), { port: 3100, inject: true, cwd: dir, env }).ownPort?.port;
    expect(own("./mvnw spring-boot:run -Dspring-boot.run.arguments=--server.port=8081")).toBe(
      "8081",
    );
    expect(own("mvn spring-boot:run -Dspring-boot.run.jvmArguments=-Dserver.port=8082")).toBe(
      "8082",
    );
    expect(own("./gradlew bootRun --args=--server.port=8083")).toBe("8083");
    expect(own("./gradlew bootRun --args --server.port=8084")).toBe("8084");
    expect(own("./mvnw spring-boot:run", { SERVER_PORT: "8085" })).toBe("8085");
    // Maven's own JVM, not the forked application's: the registered port still goes in.
    expect(plan(["mvn", "-Dserver.port=8087", "spring-boot:run"]).injected?.env).toEqual({
      SERVER_PORT: "3100",
    });
    expect(
      fixedPort(["gradle", "bootRun", "--args=--server.port=8086"], { inject: true, cwd: dir }),
    ).toEqual({
      tool: "spring-boot",
      port: 8086,
    });
  });

  test("Phoenix and air: rows of their own that add nothing (the app reads PORT)", () => {
    const row = (bin: string) => FRAMEWORKS.find((f) => f.bins.includes(bin));
    expect(row("mix")?.name).toBe("phoenix");
    expect(row("mix")?.serves("phx.server", ["phx.server"])).toBe(true);
    expect(row("mix")?.serves("test", ["test"])).toBe(false);
    expect(row("mix")?.serves("ecto.migrate", ["ecto.migrate"])).toBe(false);
    expect(row("air")?.name).toBe("air");
    expect(row("air")?.serves(undefined, [])).toBe(true);
    expect(row("air")?.serves(".air.toml", ["-c", ".air.toml"])).toBe(true);
    expect(row("air")?.serves("init", ["init"])).toBe(false);
    expect(plan(["mix", "phx.server"])).toEqual({ argv: ["mix", "phx.server"] });
    expect(plan(["air"])).toEqual({ argv: ["air"] });
  });

  test("an address the user gave is their port: runserver, mkdocs, php -S, uvicorn", () => {
    const own = (cmd: string) => plan(cmd.split(" ")).ownPort?.port;
    expect(own("python manage.py runserver 8001")).toBe("8001");
    expect(own("python manage.py runserver 0.0.0.0:8002")).toBe("8002");
    expect(own("python manage.py runserver [::1]:8003")).toBe("8003");
    expect(own("python manage.py runserver --settings x.y 8004")).toBe("8004");
    expect(own("mkdocs serve -a 127.0.0.1:8005")).toBe("8005");
    expect(own("mkdocs serve --dev-addr=localhost:8006")).toBe("8006");
    expect(own("php -S localhost:8007")).toBe("8007");
    expect(own("php -S0.0.0.0:8008")).toBe("8008");
    expect(own("uvicorn app:app --port=8009")).toBe("8009");
    expect(own("hugo server -p 8010")).toBe("8010");
    expect(own("bundle exec jekyll serve -P 8011")).toBe("8011");
    expect(own("php artisan serve --port=8012")).toBe("8012");
    expect(own("gatsby develop -p 8013")).toBe("8013");
    expect(own("docusaurus start --port 8014")).toBe("8014");
    expect(own("npx expo start -p 8015")).toBe("8015");
    expect(own("bin/rails server -p 8016")).toBe("8016");
    // Laravel's --port defaults to SERVER_PORT.
    expect(
      planCommand(["php", "artisan", "serve"], {
        port: 3100,
        inject: true,
        cwd: dir,
        env: { SERVER_PORT: "8017" },
      }).ownPort,
    ).toEqual({ tool: "artisan", port: "8017" });
  });

  test("fixedPort: the number a command fixes for itself, before anything is registered", () => {
    const fixed = (cmd: string[], env = {}) => fixedPort(cmd, { inject: true, cwd: dir, env });
    expect(fixed(["vite", "--port", "5173"])).toEqual({ tool: "vite", port: 5173 });
    expect(fixed(["npm", "run", "own"])).toEqual({ tool: "vite", port: 5000 });
    expect(fixed(["flask", "run"], { FLASK_RUN_PORT: "5000" })).toEqual({
      tool: "flask",
      port: 5000,
    });
    expect(fixed(["vite"])).toBeUndefined();
    expect(fixed(["vite", "--port", "{port}"])).toBeUndefined();
    expect(fixed(["vite", "--port", "$PORT"])).toBeUndefined();
    expect(() => fixed(["vite", "--port", "70000"])).toThrow(
      "vite is given port 70000 by the command, which is not a port (1-65535)",
    );
    expect(() => fixed(["vite", "--port", "0"])).toThrow("which is not a port");
    expect(fixed(["next", "dev", "-p", "4000"])).toEqual({ tool: "next", port: 4000 });
    expect(fixed(["rails", "s"])).toBeUndefined();
  });

  test("a port the user chose is left alone, in every spelling", () => {
    for (const cmd of ["vite --port 4000", "vite --port=4000", "storybook dev -p4000"]) {
      const p = plan(cmd.split(" "));
      expect(p.argv.join(" ")).toBe(cmd);
      expect(p.injected).toBeUndefined();
      expect(p.ownPort?.port).toBe("4000");
    }
    // Its own port, spelled through {port}: nothing to warn about.
    expect(plan(["vite", "--port", "{port}"])).toEqual({ argv: ["vite", "--port", "3100"] });
  });

  test("flags go before the tool's own `--`", () => {
    expect(argv(["vite", "--", "extra"])).toBe("vite --port 3100 --strictPort -- extra");
  });

  test("--no-inject adds nothing but still fills in {port}", () => {
    expect(argv(["vite", "--open", "http://localhost:{port}/"], false)).toBe(
      "vite --open http://localhost:3100/",
    );
  });
});

describe("runners and package managers", () => {
  test.each([
    ["npx vite", "npx vite --port 3100 --strictPort"],
    ["npx -y vite@7", "npx -y vite@7 --port 3100 --strictPort"],
    ["bunx vite", "bunx vite --port 3100 --strictPort"],
    ["pnpm exec astro dev", "pnpm exec astro dev --port 3100"],
    ["bun x vite", "bun x vite --port 3100 --strictPort"],
    ["npm exec -- vite", "npm exec -- vite --port 3100 --strictPort"],
    ["npm run dev", "npm run dev -- --port 3100 --strictPort"],
    ["npm run host -- --open", "npm run host -- --open --port 3100 --strictPort"],
    ["npm start", "npm start -- --port 3100"],
    ["npm run chain", "npm run chain -- --port 3100 --strictPort"],
    ["npm run runner", "npm run runner -- --port 3100 --strictPort"],
    ["pnpm dev", "pnpm dev --port 3100 --strictPort"],
    ["pnpm run sb", "pnpm run sb -p 3100"],
    ["yarn dev", "yarn dev --port 3100 --strictPort"],
    ["yarn run dev", "yarn run dev --port 3100 --strictPort"],
    ["bun run dev", "bun run dev --port 3100 --strictPort"],
    ["yarn vite", "yarn vite --port 3100 --strictPort"],
  ])("%s → %s", (cmd, expected) => {
    expect(argv(cmd.split(" "))).toBe(expected);
  });

  test.each([
    ["npm run piped"],
    ["npm run background"],
    ["npm run commented"],
    ["npm run build"],
    ["npm run next"],
    ["npm run missing"],
    ["npm install"],
    ["pnpm --filter web dev"],
    ["true"],
    ["bundle"],
    ["uv run"],
    ["python3"],
    ["php"],
  ])("%s is run as it is", (cmd) => {
    expect(plan(cmd.split(" "))).toEqual({ argv: cmd.split(" ") });
  });

  test("a port in the script or after npm's `--` counts as the user's", () => {
    expect(plan(["npm", "run", "own"]).ownPort).toEqual({ tool: "vite", port: "5000" });
    expect(plan(["npm", "run", "dev", "--", "--port", "4000"]).ownPort?.port).toBe("4000");
    // Before npm's `--` it is npm's own option, not vite's: the flag is still added.
    expect(argv(["npm", "run", "dev", "--port", "4000"])).toBe(
      "npm run dev --port 4000 -- --port 3100 --strictPort",
    );
  });

  test("the nearest package.json is read from a subfolder", () => {
    expect(argv(["npm", "run", "dev"], true, join(dir, "src", "deep"))).toBe(
      "npm run dev -- --port 3100 --strictPort",
    );
  });
});

test("lastCommand: the words the appended flags reach, or undefined", () => {
  expect(lastCommand("a && b --x 'y z'")).toEqual(["b", "--x", "y z"]);
  expect(lastCommand("a; b || c")).toEqual(["c"]);
  expect(lastCommand("a | b")).toBeUndefined();
  expect(lastCommand("a $(b)")).toBeUndefined();
  expect(lastCommand("vite # x")).toBeUndefined();
  expect(lastCommand("echo a#b")).toEqual(["echo", "a#b"]);
  expect(lastCommand("'unclosed")).toBeUndefined();
});

describe("portctl run's own arguments", () => {
  const parse = (argv: string[]) => {
    const p = parseArgv(["run", ...argv], COMMANDS);
    return p.kind === "run" ? p.opts : p.kind;
  };

  test("everything from the command on is the command's, --help and --port included", () => {
    expect(parse(["--service", "api", "vite", "--port", "4000", "--help"])).toEqual({
      service: "api",
      command: ["vite", "--port", "4000", "--help"],
    });
    expect(parse(["--", "--weird-cmd", "-x"])).toEqual({ command: ["--weird-cmd", "-x"] });
    expect(parse(["--help"])).toBe("help");
  });

  test("--env repeats; --no-inject is a switch; bad values stop before anything runs", () => {
    expect(parse(["--env", "A", "--env", "B_2", "--no-inject", "--", "x"])).toEqual({
      env: ["A", "B_2"],
      noInject: true,
      command: ["x"],
    });
    expect(() => parse(["--env", "1x", "--", "x"])).toThrow("invalid value '1x' for --env");
    expect(() => parse([])).toThrow("missing argument 'command'");
    expect(() => parse(["--servce", "web", "x"])).toThrow("unknown option '--servce'");
  });
});
