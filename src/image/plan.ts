/**
 * The build script of a MultiPlatformImage: pure, from plain values to a typed shell plan.
 * Secret values never reach this module; it only names the environment variables that carry them.
 */
import * as path from "path";
import { argv, bash, bashLines, csvValue, joined, Line, positionalPath, resultLine, sh, shellVar, ShellPlan, Word } from "../shell";
import { CacheFrom, CacheTo, ImageOutput, RegistryCacheTo } from "./args";
import { WORK_DIR_LINE } from "../guard";
import { ValidatedImageArgs } from "./validate";
import { sourceChecks, sourceFlags } from "./build-sources";
import { provenanceFlag } from "./attestations";
import { buildContextFlags } from "./context-flags";
import { destFinishLines, destPrepareLines, DestOutput, fileExportFlags, isDestOutput, isFileExport, loadCheckLines } from "./exports";
import { s3CacheFields } from "./s3-cache";

/** A cache entry with its Outputs resolved (the registry `ref` is a plain, checked string). */
export type PlainCache<T> = T extends { type: "registry" } ? Omit<T, "ref"> & { ref: string } : T;

/** Plain values of the pass-through arguments, after `Output`s are resolved and checked. */
export interface BuildPlanInput extends Omit<ValidatedImageArgs, "tags" | "contexts"> {
    /** The tags, resolved and checked. */
    tags: string[];
    builder?: string;
    buildArgs: Record<string, string>;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    target?: string;
    noCache?: boolean;
    pull?: boolean;
    network?: string;
    addHosts: Record<string, string>;
    cacheFrom: PlainCache<CacheFrom>[];
    cacheTo: PlainCache<CacheTo>[];
    provenance?: boolean | "min" | "max";
    sbom?: boolean;
    /** Named contexts, name → value, resolved (an image as `docker-image://<ref>`). Default none. */
    buildContexts?: Record<string, string>;
    /** Names in `buildContexts` that are local directories. */
    localContexts?: string[];
    /** Makes absolute paths relative to this directory, so the script is the same on every checkout. */
    cwd: string;
    /**
     * Push by digest only, to this repository, instead of `output`/`push` (per-platform builds):
     * `--output type=image,name=REPOSITORY,push-by-digest=true,name-canonical=true,push=true`.
     */
    pushByDigest?: string;
}

/** Prefix of the single stdout line that carries the build result. */
export const RESULT_MARKER = "pulumi-buildx-result ";
/** OCI output: the layout's blobs up to this size (KiB) are read back, the index among them (see `digestsOfBuild`). */
export const LAYOUT_BLOB_KIB = 64;

/** Prefix of the per-platform merge's result line (see per-platform.ts). */
export const MERGE_MARKER = "pulumi-buildx-merged ";

export function secretEnvName(id: string): string {
    return `PULUMI_BUILDX_SECRET_${id}`;
}

export function registryEnvNames(i: number): { address: string; username: string; password: string } {
    return {
        address: `PULUMI_BUILDX_REGISTRY_${i}_ADDRESS`,
        username: `PULUMI_BUILDX_REGISTRY_${i}_USERNAME`,
        password: `PULUMI_BUILDX_REGISTRY_${i}_PASSWORD`,
    };
}

export function relative(cwd: string, p: string): string {
    if (!p.startsWith("/")) return p;
    const rel = path.relative(cwd, p);
    return rel === "" ? "." : rel.startsWith("..") ? p : rel;
}

/** Where an export is written before it replaces `output.dest` (beside it, so `mv` is a rename). */
export function partialDir(dest: string): string {
    return `${dest}.partial`;
}

/** `output.dest` as the script uses it: relative to the project directory where inside it, never with a leading dash. */
export function destPath(cwd: string, output: DestOutput): string {
    return positionalPath(relative(cwd, output.dest));
}

function cacheFromFlag(c: PlainCache<CacheFrom>, cwd: string): Word {
    switch (c.type) {
        case "registry":
            return csvValue(["type=registry", `ref=${c.ref}`]);
        case "local":
            return csvValue(["type=local", `src=${relative(cwd, c.src)}`]);
        case "s3":
            return csvValue(s3CacheFields(c, false));
        default: {
            const never: never = c;
            throw new Error(`unknown cache source ${JSON.stringify(never)}`);
        }
    }
}

/** buildx's names of the registry cache options, with their values (only those that are set). */
function registryCacheFields(c: PlainCache<RegistryCacheTo>): string[] {
    const fields = [`ref=${c.ref}`, `mode=${c.mode ?? "min"}`];
    if (c.imageManifest !== undefined) fields.push(`image-manifest=${c.imageManifest}`);
    if (c.ociMediatypes !== undefined) fields.push(`oci-mediatypes=${c.ociMediatypes}`);
    if (c.compression !== undefined) fields.push(`compression=${c.compression}`);
    if (c.ignoreError !== undefined) fields.push(`ignore-error=${c.ignoreError}`);
    return fields;
}

function cacheToFlag(c: PlainCache<CacheTo>, cwd: string): Word {
    switch (c.type) {
        case "registry":
            return csvValue(["type=registry", ...registryCacheFields(c)]);
        case "local":
            return csvValue(["type=local", `dest=${relative(cwd, c.dest)}`, `mode=${c.mode ?? "min"}`]);
        case "inline":
            return "type=inline";
        case "s3":
            return csvValue(s3CacheFields(c, true));
        default: {
            const never: never = c;
            throw new Error(`unknown cache destination ${JSON.stringify(never)}`);
        }
    }
}

function outputFlags(output: ImageOutput, push: boolean, cwd: string): Word[] {
    switch (output.type) {
        case "registry":
            return push ? ["--push"] : [];
        case "oci":
            return ["--output", csvValue(["type=oci", `dest=${partialDir(destPath(cwd, output))}`, "tar=false"])];
        case "local":
        case "tar":
            return fileExportFlags(output, partialDir(destPath(cwd, output)));
        case "docker":
            return push ? ["--push", "--load"] : ["--load"];
        default: {
            const never: never = output;
            throw new Error(`unknown output ${JSON.stringify(never)}`);
        }
    }
}

const work = shellVar("work");

/** The `docker buildx build` argument vector, context last (after `--`). */
export function buildArgv(p: BuildPlanInput): Word[] {
    const words: Word[] = ["docker", "buildx", "build"];
    if (p.builder) words.push("--builder", p.builder);
    words.push("--platform", p.platforms.join(","));
    // An inline Dockerfile arrives on stdin and is written to the work directory first:
    // buildx 0.13 leaves temporary directories behind for every `--file -` build.
    if (p.dockerfileInline !== undefined) words.push("--file", joined(work, "/Dockerfile"));
    else if (p.dockerfile) words.push("--file", positionalPath(relative(p.cwd, p.dockerfile)));
    for (const t of p.tags) words.push("--tag", t);
    if (p.target) words.push("--target", p.target);
    for (const [k, v] of Object.entries(p.buildArgs)) words.push("--build-arg", `${k}=${v}`);
    for (const [k, v] of Object.entries(p.labels)) words.push("--label", `${k}=${v}`);
    for (const [k, v] of Object.entries(p.annotations)) words.push("--annotation", `${k}=${v}`);
    for (const id of p.secretIds) words.push("--secret", csvValue([`id=${id}`, `env=${secretEnvName(id)}`]));
    words.push(...sourceFlags(p.secretSources ?? [], p.ssh ?? []));
    for (const c of p.cacheFrom) words.push("--cache-from", cacheFromFlag(c, p.cwd));
    for (const c of p.cacheTo) words.push("--cache-to", cacheToFlag(c, p.cwd));
    if (p.network) words.push("--network", p.network);
    for (const [host, ip] of Object.entries(p.addHosts)) words.push("--add-host", `${host}:${ip}`);
    if (p.noCache) words.push("--no-cache");
    if (p.pull) words.push("--pull");
    if (p.provenance !== undefined) words.push(provenanceFlag(p.provenance));
    if (p.sbom !== undefined) words.push(`--sbom=${p.sbom}`);
    if (p.pushByDigest !== undefined) words.push("--output", pushByDigestOutput(p.pushByDigest));
    else words.push(...outputFlags(p.output, p.push, p.cwd));
    if (p.load && p.output.type !== "docker") words.push("--load");
    const local = new Set(p.localContexts ?? []);
    words.push(...buildContextFlags(p.buildContexts ?? {}, local, (dir) => relative(p.cwd, dir)));
    words.push("--progress", "plain", "--metadata-file", joined(work, "/metadata.json"));
    words.push("--", positionalPath(relative(p.cwd, p.context)));
    return words;
}

/** The `--output` of a per-platform build: pushed to `repository` by digest, with no tag. */
export function pushByDigestOutput(repository: string): Word {
    return csvValue(["type=image", `name=${repository}`, "push-by-digest=true", "name-canonical=true", "push=true"]);
}

/** The environment the login lines read: each registry's address, user and (unless it has a command) password. */
export function registryEnv(registryPasswordCommands: readonly (string | undefined)[]): Record<string, string> {
    const env: Record<string, string> = {};
    registryPasswordCommands.forEach((command, i) => {
        const r = registryEnvNames(i);
        env[r.address] = `registries[${i}].address`;
        env[r.username] = `registries[${i}].username`;
        if (command === undefined) env[r.password] = `registries[${i}].password`;
    });
    return env;
}

/** A temporary DOCKER_CONFIG with a `docker login` per registry (needs `$work`). */
export function loginLines(p: Pick<BuildPlanInput, "registryPasswordCommands">): Line[] {
    const lines = bashLines(
        'orig_config="${DOCKER_CONFIG:-$HOME/.docker}"',
        'export BUILDX_CONFIG="${BUILDX_CONFIG:-$orig_config/buildx}"',
        'if [ -z "${DOCKER_HOST:-}" ] && [ -z "${DOCKER_CONTEXT:-}" ]; then DOCKER_CONTEXT="$(docker context show)"; export DOCKER_CONTEXT; fi',
        'mkdir -m 700 -- "$work/docker-config"',
        'for d in contexts cli-plugins; do if [ -e "$orig_config/$d" ]; then ln -s -- "$orig_config/$d" "$work/docker-config/$d"; fi; done',
        'export DOCKER_CONFIG="$work/docker-config"',
    );
    p.registryPasswordCommands.forEach((command, i) => {
        const r = registryEnvNames(i);
        const address = shellVar(r.address);
        const login = argv("docker", "login", "--username", shellVar(r.username), "--password-stdin", "--", address);
        lines.push(sh`echo ${joined("pulumi-buildx: logging in to ", address)} >&2`);
        if (command === undefined) {
            lines.push(sh`printf '%s' ${shellVar(r.password)} | ${login} >&2`);
        } else {
            // The command gets no stdin: the inline Dockerfile (or anything else) is not for it.
            const failed = joined("pulumi-buildx: the passwordCommand of registry ", address, ` failed: ${command}`);
            lines.push(
                sh`if ! password="$(${argv("bash", "-c", command)} </dev/null)"; then echo ${failed} >&2; exit 1; fi`,
                sh`printf '%s' "$password" | ${login} >&2`,
                bash("unset password"),
            );
        }
    });
    return lines;
}

/**
 * The whole build as a shell plan; bash only runs the CLI calls in order:
 * 1. a private work directory, removed on every exit path; the inline Dockerfile from stdin;
 * 2. for `registries`: a temporary DOCKER_CONFIG (buildx state and contexts still found through
 *    BUILDX_CONFIG and links), `docker login --password-stdin` from the environment;
 * 3. `docker buildx build`, progress streamed to stderr (the Pulumi log);
 * 4. the read-back: the index pushed to the first tag through `imagetools inspect --raw`, or the
 *    OCI layout's `index.json` and small blobs, printed with the build metadata on ONE stdout JSON
 *    line after RESULT_MARKER, base64-encoded; TypeScript checks the bytes against the digest
 *    the build reported (`digestsOfBuild`).
 */
export function planBuild(p: BuildPlanInput): ShellPlan {
    const env: Record<string, string> = {};
    for (const id of p.secretIds) env[secretEnvName(id)] = `secrets.${id}`;
    Object.assign(env, registryEnv(p.registryPasswordCommands));
    const lines: Line[] = bashLines("set -euo pipefail", WORK_DIR_LINE);
    const oci = p.output.type === "oci";
    if (isDestOutput(p.output)) {
        const dest = destPath(p.cwd, p.output);
        lines.push(...destPrepareLines(p.output.type, dest, partialDir(dest)));
    } else {
        lines.push(bash(`trap 'rm -rf -- "$work"' EXIT`));
    }
    if (p.load || p.output.type === "docker") lines.push(...loadCheckLines(p.platforms.length));
    if (p.dockerfileInline !== undefined) lines.push(bash('cat > "$work/Dockerfile"'));
    if (p.registryPasswordCommands.length > 0) lines.push(...loginLines(p));
    lines.push(...sourceChecks(p.secretSources ?? [], p.ssh ?? []));
    lines.push(sh`echo ${`pulumi-buildx: building ${p.platforms.join(", ")}`} >&2`, sh`${argv(...buildArgv(p))} >&2`);
    if (oci) {
        lines.push(
            ...destFinishLines(),
            ...bashLines(
                'cp -- "$dest/index.json" "$work/layout.json"',
                // The layout's small blobs (index, manifests, configs), one "HEX BASE64" line each: TypeScript picks the index index.json names.
                `(cd -- "$dest/blobs/sha256" && find . -maxdepth 1 -type f -size -${LAYOUT_BLOB_KIB + 1}k -printf '%f\\n') | sort > "$work/blob-names"`,
                'while read -r f; do printf \'%s %s\\n\' "$f" "$(base64 -w0 < "$dest/blobs/sha256/$f")"; done < "$work/blob-names" > "$work/blobs.txt"',
                ': > "$work/index.raw"',
            ),
        );
    } else if (isFileExport(p.output)) {
        lines.push(...destFinishLines(), bash(': > "$work/index.raw"'));
    } else if (p.push) {
        const first = p.tags[0];
        lines.push(
            sh`echo ${`pulumi-buildx: reading back ${first}`} >&2`,
            sh`${argv("docker", "buildx", "imagetools", "inspect", "--raw", "--", first)} > "$work/index.raw"`,
        );
    } else {
        lines.push(bash(': > "$work/index.raw"'));
    }
    if (!oci) lines.push(bash('echo "{}" > "$work/layout.json"'), bash(': > "$work/blobs.txt"'));
    lines.push(
        resultLine(RESULT_MARKER, { metadata: '"$work/metadata.json"', layout: '"$work/layout.json"', index: '"$work/index.raw"', blobs: '"$work/blobs.txt"' }),
    );
    return { lines, env };
}
