/**
 * The real test environment that `scripts/test-env.sh up` provisions, as the tests see it.
 * Integration tests call `loadTestEnv()` first: if the environment is missing or a part of it is
 * down, the test FAILS naming that part (it never skips silently).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface TestNode {
    name: string;
    netns: string;
    address: string;
    buildkitEndpoint: string;
    tls: { ca: string; cert: string; key: string };
    ssh: { host: string; port: number; user: string; privateKey: string };
    buildkitdRoot: string;
    /** The node's own buildkitd unix socket (host side). */
    buildkitSocket?: string;
    /** A Docker engine of the node's own, reached over SSH (node2 only). */
    docker?: { host: string; buildkitImage: string; pid?: number };
}

/**
 * An EC2 stand-in host (`scripts/testenv/ec2hosts.sh`): a network namespace on the bridge with only
 * an sshd, which `ec2User` logs in to (passwordless sudo; root may not log in). It shares this
 * machine's file system except `/etc/buildkit` and `/run/buildkit`, which in its sessions (the
 * sshd's private mount namespace) are `etcBuildkit` and `runBuildkit`. No buildkitd runs there
 * until a test starts one (`startBuildkitdOnEc2Host` in `ec2host.ts`).
 */
export interface TestEc2Host {
    name: string;
    netns: string;
    address: string;
    /** The sshd's pid: `nsenter -t <sshdPid> --net --mount` enters the host. */
    sshdPid: number;
    /** This machine's directory that is `/etc/buildkit` on the host. */
    etcBuildkit: string;
    /** This machine's directory that is `/run/buildkit` on the host. */
    runBuildkit: string;
    /** The host's generated files (sshd_config, buildkitd.toml). */
    runDir: string;
    ssh: { host: string; port: number; user: string; privateKey: string; knownHosts: string; config: string };
    /** For a buildkitd on the host: config (registry CAs), root dir, log file, PATH, TCP port. */
    buildkitd: { config: string; root: string; log: string; path: string; port: number };
}

export interface TestEnv {
    /** The environment's state dir (BUILDX_TESTENV_DIR). */
    dir?: string;
    path: string;
    dockerHost: string;
    caCert: string;
    registry: { host: string; url: string };
    authRegistry: { host: string; url: string; username: string; password: string; passwordFile: string };
    baseImage: string;
    /** A Go toolchain image (this machine's GOROOT on the base image), for the build platform only. */
    goImage?: string;
    bridge: { name: string; hostAddress: string; cidr: string };
    nodes: TestNode[];
    binfmt: string[];
    /** A BuildKit image built locally for the docker-container driver (no pulls). */
    buildkitImage?: string;
    /** The EC2 user (`ec2-user`): in every test host's sshd, passwordless sudo, group `docker`. */
    ec2User?: string;
    /** The EC2 stand-in hosts (ec2a 10.213.77.13, ec2b 10.213.77.14). */
    ec2Hosts?: TestEc2Host[];
    /** The BuildKit version of the nodes' buildkitd and of `buildkitImage`. */
    buildkitVersion?: string;
    /** The buildx/BuildKit pair the tests run on (`BUILDX_TESTENV_PAIR`, see `selectPair`). */
    pair?: { name: TestPairName; buildxVersion?: string; buildkitVersion?: string };
}

/** `oldest`: Debian trixie's buildx 0.13.1 + buildkitd v0.16.0 (env.json as written); `current`: the pair of pair-current.json. */
export type TestPairName = "oldest" | "current";

/** What `scripts/testenv/currentpair.sh` records in `$BUILDX_TESTENV_DIR/pair-current.json`. */
interface PairFile {
    name: "current";
    buildxVersion: string;
    buildkitVersion: string;
    /** A docker client config dir whose `cli-plugins/docker-buildx` is the pair's buildx. */
    dockerConfig: string;
    /** The pair's bin dir (buildkitd, buildctl, docker-buildx), put first on PATH. */
    path: string;
    buildkitImage: string;
    /** Per test host: the pair's own buildkitd (another port, root and socket; same certificates). */
    nodes: Record<string, { buildkitEndpoint: string; buildkitSocket: string; buildkitdRoot: string; pid: number }>;
    /** EC2 stand-in hosts' buildkitd roots for this pair: `<prefix>/<host name>`. */
    ec2BuildkitdRootPrefix: string;
}

export const DEFAULT_TESTENV_JSON = "/var/lib/pulumi-buildx-testenv/env.json";

let cached: TestEnv | undefined;

/** Reads env.json, puts the environment's tools first on PATH, and checks that every part answers. */
export function loadTestEnv(): TestEnv {
    if (cached) return cached;
    const file = process.env.BUILDX_TESTENV_JSON ?? DEFAULT_TESTENV_JSON;
    if (!fs.existsSync(file)) {
        throw new Error(`test environment missing: ${file} does not exist. Run \`sudo scripts/test-env.sh up\` first (or set BUILDX_TESTENV_JSON).`);
    }
    const env = selectPair(JSON.parse(fs.readFileSync(file, "utf8")) as TestEnv, file);
    if (!(process.env.PATH ?? "").split(":").includes(env.path)) {
        process.env.PATH = `${env.path}:${process.env.PATH ?? ""}`;
    }
    process.env.DOCKER_HOST = env.dockerHost;
    const check = (part: string, argv: string[], input?: string) => {
        try {
            execFileSync(argv[0], argv.slice(1), { stdio: "pipe", timeout: 20_000, input });
        } catch (err) {
            const e = err as { stderr?: Buffer; message: string };
            throw new Error(
                `test environment part down: ${part} (${argv.join(" ")}): ${e.stderr?.toString().trim() || e.message}. Run \`scripts/test-env.sh status\`.`,
            );
        }
    };
    check("docker engine", ["docker", "info", "--format", "{{.ServerVersion}}"]);
    check("buildx", ["docker", "buildx", "version"]);
    checkPair(env);
    check("TLS registry", ["curl", "-fsS", "--cacert", env.caCert, `${env.registry.url}/v2/`]);
    // Credentials through curl's config on stdin, not on its command line.
    check(
        "auth registry",
        ["curl", "-fsS", "-K", "-", "--cacert", env.caCert, `${env.authRegistry.url}/v2/`],
        `user = "${env.authRegistry.username}:${env.authRegistry.password}"\n`,
    );
    if (env.nodes.length < 2) {
        throw new Error(`test environment part missing: expected at least 2 buildkitd nodes, env.json lists ${env.nodes.length}`);
    }
    cached = env;
    return env;
}

/**
 * The pair named by `BUILDX_TESTENV_PAIR` (`oldest`, the default, or `current`) swapped into env:
 * for `current`, the pair's docker config (its buildx plugin) and bin dir (buildkitd, buildctl)
 * go into this process's environment, so every `docker buildx` and `buildctl` the tests and the
 * components run uses them; the nodes' endpoints become the pair's buildkitd, `buildkitImage` its
 * image, and the EC2 stand-ins run its buildkitd (with roots of their own).
 */
function selectPair(env: TestEnv, file: string): TestEnv {
    const name = process.env.BUILDX_TESTENV_PAIR ?? "oldest";
    if (name === "oldest") return { ...env, pair: { name, buildkitVersion: env.buildkitVersion } };
    if (name !== "current") throw new Error(`BUILDX_TESTENV_PAIR=${JSON.stringify(name)} is not valid: expected "oldest" (the default) or "current"`);
    const pairFile = `${path.dirname(file)}/pair-current.json`;
    if (!fs.existsSync(pairFile)) {
        throw new Error(`test environment part missing: BUILDX_TESTENV_PAIR=current but ${pairFile} does not exist. Run \`scripts/test-env.sh up\`.`);
    }
    const pair = JSON.parse(fs.readFileSync(pairFile, "utf8")) as PairFile;
    process.env.DOCKER_CONFIG = pair.dockerConfig;
    process.env.PATH = `${pair.path}:${env.path}:${process.env.PATH ?? ""}`;
    const nodes = env.nodes.map((n) => {
        const own = pair.nodes[n.name];
        if (!own) throw new Error(`test environment part missing: ${pairFile} has no buildkitd for node ${n.name}. Run \`scripts/test-env.sh up\`.`);
        return { ...n, ...own, ...(n.docker ? { docker: { ...n.docker, buildkitImage: pair.buildkitImage } } : {}) };
    });
    const ec2Hosts = env.ec2Hosts?.map((h) => ({
        ...h,
        buildkitd: { ...h.buildkitd, path: `${pair.path}:${h.buildkitd.path}`, root: `${pair.ec2BuildkitdRootPrefix}/${h.name}` },
    }));
    return {
        ...env,
        nodes,
        ec2Hosts,
        buildkitImage: pair.buildkitImage,
        buildkitVersion: pair.buildkitVersion,
        pair: { name, buildxVersion: pair.buildxVersion, buildkitVersion: pair.buildkitVersion },
    };
}

/** The selected pair is the one that answers: `docker buildx version` and `buildkitd --version` say its versions. */
function checkPair(env: TestEnv): void {
    if (env.pair?.name !== "current") return;
    const expect: [string, string[], string | undefined][] = [
        ["docker", ["buildx", "version"], env.pair.buildxVersion],
        ["buildkitd", ["--version"], env.pair.buildkitVersion],
    ];
    for (const [cmd, args, version] of expect) {
        const out = execFileSync(cmd, args, { encoding: "utf8", timeout: 20_000 }).trim();
        if (version === undefined || !out.split(/\s+/).includes(version)) {
            throw new Error(`test environment pair ${env.pair.name}: \`${cmd} ${args.join(" ")}\` says ${JSON.stringify(out)}, expected ${version}`);
        }
    }
}
