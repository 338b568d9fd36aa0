/**
 * A Pulumi project run by the REAL engine: the `pulumi` CLI, the upstream `pulumi-language-nodejs`
 * and `pulumi-resource-command` plugins that scripts/pulumi-engine.sh builds, a `file://` backend and
 * the passphrase secrets provider, all inside a temporary directory (its own PULUMI_HOME, so the
 * command provider sits in a plugin cache of its own, where a downloaded one would be).
 *
 * The engine test files share this: each lays out its program, then drives the CLI.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.join(__dirname, "..", "..");

/** Asks scripts/pulumi-engine.sh where it put the engine; fails naming the missing part. */
export function engine(what: "path" | "provider" | "info"): string {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "pulumi-engine.sh"), what], { encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`Pulumi engine missing: ${r.stderr.trim()}. Run \`bash scripts/pulumi-engine.sh build\` first.`);
    }
    return r.stdout.trim();
}

/** The version of an installed npm package (the plugin versions the program asks for). */
export function npmVersion(pkg: string): string {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
}

export interface PreviewJson {
    steps?: { op: string; urn: string; diffReasons?: string[]; replaceReasons?: string[] }[];
    changeSummary?: Record<string, number>;
    diagnostics?: { message: string; severity: string }[];
}

export interface HistoryEntry {
    kind: string;
    result: string;
    resourceChanges?: Record<string, number>;
}

/** One line of `pulumi up --event-log`: what the engine saw, in order. */
export interface EngineEvent {
    sequence: number;
    diagnosticEvent?: { urn?: string; message: string; severity: string };
    resOutputsEvent?: { metadata: { urn: string; op: string } };
    resOpFailedEvent?: { metadata: { urn: string; op: string } };
}

export interface CliResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

export class EngineProject {
    /** The copy of the repository's root: `src` and `node_modules` go here (`linkPackage`). */
    readonly root: string;
    /** The program's directory (the root, or a folder below it): lay its files out here before `init`. */
    readonly dir: string;
    readonly passphrase = randomBytes(16).toString("hex");
    readonly timings: [string, number][] = [];
    private readonly tmp: string;
    private readonly env: NodeJS.ProcessEnv;

    /** `subdir`: where the program sits below the repository root, so its imports of `src` resolve as in the repository. */
    constructor(prefix: string, subdir = "") {
        const bin = engine("path");
        this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-buildx-${prefix}-`));
        this.root = path.join(this.tmp, "program");
        this.dir = path.join(this.root, subdir);
        for (const d of [this.dir, this.stateDir, this.home]) fs.mkdirSync(d, { recursive: true });
        this.env = {
            ...process.env,
            PATH: `${bin}:${process.env.PATH ?? ""}`,
            PULUMI_HOME: this.home,
            PULUMI_BACKEND_URL: `file://${this.stateDir}`,
            PULUMI_CONFIG_PASSPHRASE: this.passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
            PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            NO_COLOR: "1",
        };
        delete this.env.PULUMI_IGNORE_AMBIENT_PLUGINS;
        delete this.env.PULUMI_ACCESS_TOKEN;
        // The mocha process may carry ts-node settings that must not leak into the program's own ts-node.
        delete this.env.TS_NODE_PROJECT;
        delete this.env.TS_NODE_TRANSPILE_ONLY;
    }

    get stateDir(): string {
        return path.join(this.tmp, "state");
    }

    get home(): string {
        return path.join(this.tmp, "home");
    }

    /** Links the repository's node_modules and copies `src` (the package) and its compiler settings into the root. */
    linkPackage(): void {
        fs.cpSync(path.join(ROOT, "src"), path.join(this.root, "src"), { recursive: true });
        fs.copyFileSync(path.join(ROOT, "tsconfig.json"), path.join(this.root, "tsconfig.json"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(this.root, "node_modules"), "dir");
    }

    /** Installs the command provider the engine was built with, logs in to the backend, makes the stack. */
    init(stack: string): void {
        this.installCommandProvider();
        this.pulumi(["login", `file://${this.stateDir}`]);
        this.pulumi(["stack", "init", stack, "--secrets-provider", "passphrase"]);
    }

    /** Installs the command provider the engine was built with into this PULUMI_HOME. */
    installCommandProvider(): void {
        // The provider goes into this PULUMI_HOME's plugin cache, where a downloaded one would be;
        // nothing else may appear there (no download is ever attempted).
        this.pulumi(["plugin", "install", "resource", "command", npmVersion("@pulumi/command"), "--file", engine("provider")]);
    }

    /** The CLI's settings (backend, passphrase, PULUMI_HOME, no downloads), for the Automation API's `envVars`. */
    automationEnv(): Record<string, string> {
        return Object.fromEntries(
            Object.entries(this.env).filter((e): e is [string, string] => e[1] !== undefined && (e[0].startsWith("PULUMI_") || e[0] === "NO_COLOR")),
        );
    }

    /** Runs the CLI in the project and returns what it printed, whatever its exit. */
    run(args: string[], label?: string, input?: string, extraEnv: NodeJS.ProcessEnv = {}): CliResult {
        const start = Date.now();
        const r = spawnSync("pulumi", [...args, "--non-interactive"], {
            cwd: this.dir,
            env: { ...this.env, ...extraEnv },
            input,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        });
        if (label) this.timings.push([label, (Date.now() - start) / 1000]);
        return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    }

    /** Starts the CLI in the project without waiting for it (to signal it mid-operation). */
    start(args: string[], extraEnv: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
        const child = spawn("pulumi", [...args, "--non-interactive"], { cwd: this.dir, env: { ...this.env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout!.on("data", (d) => (output += d));
        child.stderr!.on("data", (d) => (output += d));
        const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
        return { child, output: () => output, exited };
    }

    /** Runs the CLI in the project; throws with its output on failure. */
    pulumi(args: string[], label?: string, input?: string): string {
        const r = this.run(args, label, input);
        if (r.status !== 0) {
            throw new Error(`pulumi ${args.join(" ")} exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        }
        return r.stdout;
    }

    setConfig(values: Record<string, string>): void {
        // Values on stdin: multi-line ones stay intact and none is on a command line.
        for (const [key, value] of Object.entries(values)) this.pulumi(["config", "set", key], undefined, value);
    }

    outputs(): Record<string, unknown> {
        return JSON.parse(this.pulumi(["stack", "output", "--json", "--show-secrets"])) as Record<string, unknown>;
    }

    lastUpdate(): HistoryEntry {
        return (JSON.parse(this.pulumi(["stack", "history", "--json"])) as HistoryEntry[])[0];
    }

    preview(label: string): PreviewJson {
        return JSON.parse(this.pulumi(["preview", "--json"], label)) as PreviewJson;
    }

    /** `pulumi up` with an event log; returns the CLI's output and the engine events, in order. */
    upWithEvents(label: string): CliResult & { events: EngineEvent[] } {
        const log = this.eventLog();
        const r = this.run(["up", "--yes", "--skip-preview", ...log.args], label, undefined, log.env);
        return { ...r, events: log.events() };
    }

    /**
     * An event log for a CLI run: the arguments and environment to add (`--event-log`, what the
     * Automation API reads, exists only with PULUMI_DEBUG_COMMANDS), and its events once written.
     */
    eventLog(): { args: string[]; env: NodeJS.ProcessEnv; events: () => EngineEvent[] } {
        const log = path.join(this.tmp, `events-${Date.now()}-${randomBytes(3).toString("hex")}.jsonl`);
        const events = () =>
            fs.existsSync(log)
                ? fs
                      .readFileSync(log, "utf8")
                      .split("\n")
                      .filter(Boolean)
                      .map((l) => JSON.parse(l) as EngineEvent)
                : [];
        return { args: ["--event-log", log], env: { PULUMI_DEBUG_COMMANDS: "true" }, events };
    }

    /** The stack's resources as `pulumi stack export --show-secrets` shows them (secrets decrypted, so comparable). */
    resources(): { urn: string; type: string; outputs?: Record<string, unknown> }[] {
        const exported = JSON.parse(this.pulumi(["stack", "export", "--show-secrets"]));
        return (exported.deployment?.resources ?? []) as { urn: string; type: string; outputs?: Record<string, unknown> }[];
    }

    /** Destroys what is left (after a failed test) and removes the temporary directory. */
    dispose(): void {
        if (fs.existsSync(path.join(this.stateDir, ".pulumi"))) {
            this.run(["destroy", "--yes", "--skip-preview"]);
        }
        fs.rmSync(this.tmp, { recursive: true, force: true });
    }

    printTimings(): void {
        console.log("    engine timings:");
        for (const [label, s] of this.timings) console.log(`      ${label.padEnd(40)} ${s.toFixed(1)}s`);
    }
}

/** An engine test program (test/engine/programs/NAME), laid out at the same place below a copy of the root. */
export function programProject(program: string): EngineProject {
    const subdir = path.join("test", "engine", "programs", program);
    const project = new EngineProject(`engine-${program}`, subdir);
    fs.cpSync(path.join(ROOT, subdir), project.dir, { recursive: true });
    project.linkPackage();
    return project;
}
