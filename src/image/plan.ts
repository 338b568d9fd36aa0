/**
 * The build script of a MultiPlatformImage: pure, from plain values to one bash script.
 * Secret values never reach this module; it only names the environment variables that carry them.
 */
import * as path from "path";
import { parseReference } from "../reference";
import { join, quote } from "../shell";
import { CacheFrom, CacheTo, ImageOutput } from "./args";
import { ValidatedImageArgs } from "./validate";

/** Plain values of the pass-through arguments, after `Output`s are resolved. */
export interface BuildPlanInput extends Omit<ValidatedImageArgs, "tags"> {
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
    cacheFrom: CacheFrom[];
    cacheTo: CacheTo[];
    provenance?: boolean;
    sbom?: boolean;
    /** Makes absolute paths relative to this directory, so the script is the same on every checkout. */
    cwd: string;
}

export interface BuildPlan {
    /** The bash script to run (`bash -c`). Contains no secret values. */
    script: string;
    /** Environment variable carrying each build secret, by secret id. */
    secretEnv: Record<string, string>;
    /** Environment variables carrying each registry login, in order. */
    registryEnv: { address: string; username: string; password: string }[];
}

/** Prefix of the single stdout line that carries the build result. */
export const RESULT_MARKER = "pulumi-buildx-result ";

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

function relative(cwd: string, p: string): string {
    if (!p.startsWith("/")) return p;
    const rel = path.relative(cwd, p);
    return rel === "" ? "." : rel.startsWith("..") ? p : rel;
}

function cacheFromFlag(c: CacheFrom, cwd: string): string {
    switch (c.type) {
        case "registry":
            return `type=registry,ref=${c.ref}`;
        case "local":
            return `type=local,src=${relative(cwd, c.src)}`;
        default: {
            const never: never = c;
            throw new Error(`unknown cache source ${JSON.stringify(never)}`);
        }
    }
}

function cacheToFlag(c: CacheTo, cwd: string): string {
    switch (c.type) {
        case "registry":
            return `type=registry,ref=${c.ref},mode=${c.mode ?? "min"}`;
        case "local":
            return `type=local,dest=${relative(cwd, c.dest)},mode=${c.mode ?? "min"}`;
        case "inline":
            return "type=inline";
        default: {
            const never: never = c;
            throw new Error(`unknown cache destination ${JSON.stringify(never)}`);
        }
    }
}

function outputFlags(output: ImageOutput, push: boolean, partialDir: string): string[] {
    switch (output.type) {
        case "registry":
            return push ? ["--push"] : [];
        case "oci":
            return ["--output", `type=oci,dest=${partialDir},tar=false`];
        default: {
            const never: never = output;
            throw new Error(`unknown output ${JSON.stringify(never)}`);
        }
    }
}

/** The `docker buildx build` argument vector (without the metadata file and context, added by the script). */
export function buildArgv(p: BuildPlanInput, secretEnv: Record<string, string>, ociPartial: string): string[] {
    const argv = ["docker", "buildx", "build"];
    if (p.builder) argv.push("--builder", p.builder);
    argv.push("--platform", p.platforms.join(","));
    // An inline Dockerfile arrives on stdin and is written to the work directory first:
    // buildx 0.13 leaves temporary directories behind for every `--file -` build.
    if (p.dockerfileInline !== undefined) argv.push("--file", "INLINE_DOCKERFILE");
    else if (p.dockerfile) argv.push("--file", relative(p.cwd, p.dockerfile));
    for (const t of p.tags) argv.push("--tag", t);
    if (p.target) argv.push("--target", p.target);
    for (const [k, v] of Object.entries(p.buildArgs)) argv.push("--build-arg", `${k}=${v}`);
    for (const [k, v] of Object.entries(p.labels)) argv.push("--label", `${k}=${v}`);
    for (const [k, v] of Object.entries(p.annotations)) argv.push("--annotation", `${k}=${v}`);
    for (const [id, env] of Object.entries(secretEnv)) argv.push("--secret", `id=${id},env=${env}`);
    for (const c of p.cacheFrom) argv.push("--cache-from", cacheFromFlag(c, p.cwd));
    for (const c of p.cacheTo) argv.push("--cache-to", cacheToFlag(c, p.cwd));
    if (p.network) argv.push("--network", p.network);
    for (const [host, ip] of Object.entries(p.addHosts)) argv.push("--add-host", `${host}:${ip}`);
    if (p.noCache) argv.push("--no-cache");
    if (p.pull) argv.push("--pull");
    if (p.provenance !== undefined) argv.push(`--provenance=${p.provenance}`);
    if (p.sbom !== undefined) argv.push(`--sbom=${p.sbom}`);
    argv.push(...outputFlags(p.output, p.push, ociPartial));
    argv.push("--progress", "plain");
    return argv;
}

/**
 * The whole build as one bash script:
 * 1. a private work directory, removed on every exit path;
 * 2. for `registries`: a temporary DOCKER_CONFIG (buildx state and contexts still found through
 *    BUILDX_CONFIG and links), `docker login --password-stdin` from the environment;
 * 3. `docker buildx build`, progress streamed to stderr (the Pulumi log);
 * 4. the read-back: the pushed index through `imagetools inspect --raw`, or the OCI layout's
 *    `index.json` and index blob, printed on ONE stdout line after RESULT_MARKER, base64-encoded
 *    so the bytes can be verified against the digest.
 */
export function planBuild(p: BuildPlanInput): BuildPlan {
    const secretEnv: Record<string, string> = {};
    for (const id of p.secretIds) secretEnv[id] = secretEnvName(id);
    const registryEnv = p.registryPasswordCommands.map((_, i) => registryEnvNames(i));
    const lines: string[] = ["set -euo pipefail", 'work="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-buildx.XXXXXX")"'];
    const oci = p.output.type === "oci" ? relative(p.cwd, p.output.dest) : undefined;
    if (oci !== undefined) {
        lines.push(`dest=${quote(oci)}`, 'partial="$dest.partial.$$"', `trap 'rm -rf "$work" "$partial"' EXIT`);
        lines.push(
            'if [ -e "$dest" ] && [ ! -f "$dest/oci-layout" ]; then',
            '  echo "pulumi-buildx: output.dest $dest exists and is not an OCI image layout; refusing to replace it" >&2; exit 1',
            "fi",
        );
    } else {
        lines.push(`trap 'rm -rf "$work"' EXIT`);
    }
    if (registryEnv.length > 0) {
        lines.push(
            'orig_config="${DOCKER_CONFIG:-$HOME/.docker}"',
            'export BUILDX_CONFIG="${BUILDX_CONFIG:-$orig_config/buildx}"',
            'if [ -z "${DOCKER_HOST:-}" ] && [ -z "${DOCKER_CONTEXT:-}" ]; then export DOCKER_CONTEXT="$(docker context show)"; fi',
            'mkdir -m 700 "$work/docker-config"',
            'for d in contexts cli-plugins; do if [ -e "$orig_config/$d" ]; then ln -s "$orig_config/$d" "$work/docker-config/$d"; fi; done',
            'export DOCKER_CONFIG="$work/docker-config"',
        );
        for (const [i, r] of registryEnv.entries()) {
            const command = p.registryPasswordCommands[i];
            const login = `docker login --username "\${${r.username}}" --password-stdin "\${${r.address}}" >&2`;
            lines.push(`echo "pulumi-buildx: logging in to \${${r.address}}" >&2`);
            if (command === undefined) {
                lines.push(`printf '%s' "\${${r.password}}" | ${login}`);
            } else {
                lines.push(
                    `if ! password="$(bash -c ${quote(command)})"; then echo "pulumi-buildx: the passwordCommand of registry \${${r.address}} failed: "${quote(command)} >&2; exit 1; fi`,
                    `printf '%s' "$password" | ${login}`,
                    "unset password",
                );
            }
        }
    }
    if (p.dockerfileInline !== undefined) lines.push('cat > "$work/Dockerfile"');
    lines.push(`echo ${quote(`pulumi-buildx: building ${p.platforms.join(", ")}`)} >&2`);
    const argv = buildArgv(p, secretEnv, "PARTIAL_DIR");
    const rendered = join(argv).replace("dest=PARTIAL_DIR,", 'dest="$partial",').replace("--file INLINE_DOCKERFILE", '--file "$work/Dockerfile"');
    lines.push(`${rendered} --metadata-file "$work/metadata.json" ${quote(relative(p.cwd, p.context))} >&2`);
    lines.push(
        `digest="$(grep -o '"containerimage.digest": *"sha256:[0-9a-f]*"' "$work/metadata.json" | grep -o 'sha256:[0-9a-f]*' || true)"`,
    );
    if (oci !== undefined) {
        lines.push(
            'rm -rf "$dest"',
            'mv "$partial" "$dest"',
            'cp "$dest/index.json" "$work/layout.json"',
            'top="$(grep -o \'"digest": *"sha256:[0-9a-f]*"\' "$dest/index.json" | head -n 1 | grep -o \'sha256:[0-9a-f]*\')"',
            'cp "$dest/blobs/sha256/${top#sha256:}" "$work/index.raw"',
        );
    } else if (p.push) {
        const first = p.tags[0];
        lines.push(
            'if [ -z "$digest" ]; then echo "pulumi-buildx: buildx reported no image digest (metadata: $(cat "$work/metadata.json"))" >&2; exit 1; fi',
            `echo "pulumi-buildx: reading back $digest" >&2`,
            `docker buildx imagetools inspect --raw ${quote(repositoryOf(first))}"@$digest" > "$work/index.raw"`,
        );
    } else {
        lines.push(': > "$work/index.raw"');
    }
    if (oci === undefined) lines.push('echo "{}" > "$work/layout.json"');
    lines.push(
        `printf '${RESULT_MARKER}{"metadata":"%s","layout":"%s","index":"%s"}\\n' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")"`,
    );
    return { script: lines.join("\n") + "\n", secretEnv, registryEnv };
}

/** The repository part of a reference that has already been validated. */
function repositoryOf(tagRef: string): string {
    const result = parseReference(tagRef);
    if (!result.ok) throw new Error(result.reason);
    return result.ref.repository;
}
