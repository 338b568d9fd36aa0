import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { invalidReason, InputProblems, isLate, MAX_TEXT_BYTES, quoteValue, textProblem } from "../errors";
import { NAME_PATTERN, NAME_RULE } from "../builder/validate";
import { collectPlatforms, PlatformString, VALID_PLATFORM_FORMS } from "../platform";
import { parseReference } from "../reference";
import { isEnvName } from "../shell";
import { CacheFrom, CacheTo, ImageOutput, MultiPlatformImageArgs, S3Cache } from "./args";
import { checkBuildContexts, NamedContext } from "./contexts";
import { SecretFrom, SshPlan } from "./build-sources";
import { collectSecretSources, collectSsh, isSecretSource } from "./build-sources-validate";
import { checkPerPlatform } from "./per-platform-validate";

/** The plain, checked and normalised shape of a build: everything that decides what runs. */
export interface ValidatedImageArgs {
    context: string;
    /** Absolute Dockerfile path, or undefined with `dockerfileInline`. */
    dockerfile?: string;
    dockerfileInline?: string;
    platforms: PlatformString[];
    /** Plain tags are checked; Outputs are checked by `checkTags` once known. */
    tags: pulumi.Input<string>[];
    push: boolean;
    output: ImageOutput;
    secretIds: string[];
    /** One entry per registry, in order: its `passwordCommand`, or undefined for a `password`. */
    registryPasswordCommands: (string | undefined)[];
    /** `--load` (from `load: true`; `output: { type: "docker" }` loads by itself). */
    load?: boolean;
    /** The named contexts, classified (local directories resolved). */
    contexts: NamedContext[];
    /** Secrets read at build time (`{ env }` / `{ file }`), in `secrets` order; not in `secretIds`. */
    secretSources?: SecretFrom[];
    /** `--ssh` forwards. */
    ssh?: SshPlan[];
    /** Each platform in its own build, merged by digest (`perPlatform`, or implied by `platformBuilders`). */
    perPlatform?: boolean;
    /** Platforms with a builder of their own → the `platformBuilders` key given. */
    platformBuilderKeys?: Partial<Record<PlatformString, string>>;
}

const NETWORKS = ["default", "none", "host"];

/** How `validateImageArgs` reports: the component named in messages, and whether `builder` must be a plain name (`buildImage`). */
export interface ValidateImageOptions {
    /** Default `"MultiPlatformImage"`. */
    component?: string;
    /** `builder` must be a non-empty plain string. Default false. */
    requireBuilder?: boolean;
}

/**
 * Checks every plain argument and returns the normalised build shape, or throws one
 * `InputPropertiesError` listing every problem. Runs nothing; reads only the file system
 * (does the context exist, is there a Dockerfile).
 */
export function validateImageArgs(resourceName: string, args: MultiPlatformImageArgs, opts: ValidateImageOptions = {}): ValidatedImageArgs {
    const problems = new InputProblems(opts.component ?? "MultiPlatformImage", resourceName);
    if (args === undefined || args === null) {
        problems.missing("args", "an object with at least `context` and `platforms`");
        problems.throwIfAny();
    }

    // context and Dockerfile
    let context = "";
    if (typeof args.context !== "string" || args.context === "") {
        problems.missing("context", 'the build context directory, e.g. "./app"');
    } else {
        context = path.resolve(args.context);
        const reason = textProblem(args.context, "a directory path");
        if (reason !== undefined) problems.add("context", reason);
        else if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) {
            problems.invalid("context", args.context, `an existing directory (resolved to ${context})`);
        }
    }
    let dockerfile: string | undefined;
    if (args.dockerfile !== undefined && args.dockerfileInline !== undefined) {
        problems.add("dockerfileInline", "cannot be combined with `dockerfile`: give one of them");
    } else if (args.dockerfileInline !== undefined) {
        if (typeof args.dockerfileInline !== "string" || args.dockerfileInline.trim() === "") {
            problems.invalid("dockerfileInline", args.dockerfileInline, "the non-empty contents of a Dockerfile");
        }
    } else if (args.dockerfile !== undefined && typeof args.dockerfile !== "string") {
        problems.invalid("dockerfile", args.dockerfile, "a path to a Dockerfile");
    } else if (args.dockerfile !== undefined && textProblem(args.dockerfile, "a path to a Dockerfile") !== undefined) {
        problems.add("dockerfile", textProblem(args.dockerfile, "a path to a Dockerfile") as string);
    } else if (context !== "") {
        dockerfile = path.resolve(args.dockerfile ?? path.join(context, "Dockerfile"));
        if (!fs.existsSync(dockerfile) || !fs.statSync(dockerfile).isFile()) {
            problems.invalid(
                args.dockerfile === undefined ? "context" : "dockerfile",
                args.dockerfile ?? args.context,
                `${args.dockerfile === undefined ? "a context that contains a Dockerfile" : "an existing file"} (looked for ${dockerfile}); ` +
                    `or give \`dockerfileInline\``,
            );
        }
    }

    // platforms
    let platforms: PlatformString[] = [];
    if (!Array.isArray(args.platforms) || args.platforms.length === 0) {
        problems.invalid("platforms", args.platforms, `a non-empty list of platforms, each ${VALID_PLATFORM_FORMS}`);
    } else {
        platforms = collectPlatforms(problems, "platforms", args.platforms);
    }

    // tags, push and output
    const tags: pulumi.Input<string>[] = [];
    if (args.tags !== undefined && !Array.isArray(args.tags)) {
        problems.invalid("tags", args.tags, "a list of image references");
    }
    (Array.isArray(args.tags) ? args.tags : []).forEach((t, i) => {
        // An Output (or Promise) is checked by checkTags once known.
        if (!isLate(t)) {
            const reason = tagProblem(t as string);
            if (reason !== undefined) problems.add(`tags[${i}]`, reason);
        }
        tags.push(t);
    });
    const output: ImageOutput = args.output ?? { type: "registry" };
    problems.optionalBoolean("push", args.push);
    let push = args.push ?? (output.type === "registry" && tags.length > 0);
    if (output.type === "registry") {
        if (args.push === true && (args.tags ?? []).length === 0) {
            problems.add("push", "is true but `tags` is empty: give at least one image reference to push to");
        }
        if (args.push === undefined && (args.tags ?? []).length === 0 && args.load !== true) {
            problems.add("tags", 'is empty: give at least one image reference to push to, or set `output: { type: "oci", dest }` to export without a registry');
        }
    } else if (output.type === "oci") {
        const reason = destProblem(output.dest, "the directory to write the OCI image layout to");
        if (reason !== undefined) problems.add("output.dest", reason);
        if (args.push === true) {
            problems.add("push", 'cannot be combined with `output: { type: "oci" }`: an OCI layout export writes to disk, not to a registry');
        }
        push = false;
    } else {
        checkOtherOutput(problems, output, args);
        if (output.type !== "docker") push = false;
    }
    problems.optionalBoolean("load", args.load);
    const contexts = checkBuildContexts(problems, args.buildContexts);

    // secrets and build args
    const secretIds = Object.keys(args.secrets ?? {}).filter((id) => !isSecretSource(args.secrets?.[id]));
    const secretSources = collectSecretSources(problems, args.secrets ?? {});
    Object.keys(args.secrets ?? {}).forEach((id) => {
        if (!isEnvName(id)) {
            problems.invalid(`secrets.${id}`, id, "an id that is a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
        }
        const value = args.secrets?.[id];
        const reason = isLate(value) || isSecretSource(value) ? undefined : secretTextProblem(value);
        if (reason !== undefined) problems.add(`secrets.${id}`, reason);
    });
    for (const [n, value] of Object.entries(args.buildArgs ?? {})) {
        if (n === "" || /[=\s\0]/.test(n)) {
            problems.invalid(`buildArgs.${n}`, n, "a build argument name without `=`, white space or NUL");
        }
        const reason = isLate(value) ? undefined : argValueProblem(value);
        if (reason !== undefined) problems.add(`buildArgs.${n}`, reason);
    }
    for (const field of ["labels", "annotations"] as const) {
        for (const [k, value] of Object.entries(args[field] ?? {})) {
            if (k === "" || /[=\0]/.test(k)) problems.invalid(`${field}.${k}`, k, "a key without `=` or NUL");
            const reason = isLate(value) ? undefined : argValueProblem(value);
            if (reason !== undefined) problems.add(`${field}.${k}`, reason);
        }
    }

    // registries
    const registries = args.registries ?? [];
    if (!Array.isArray(registries)) {
        problems.invalid("registries", registries, "a list of { address, username, password } (or passwordCommand instead of password)");
    } else {
        registries.forEach((r, i) => {
            for (const key of ["address", "username"] as const) {
                if (r?.[key] === undefined || r[key] === "") problems.missing(`registries[${i}].${key}`, `the registry ${key}`);
            }
            const addressReason = r?.address === undefined || r.address === "" || isLate(r.address) ? undefined : registryAddressProblem(r.address);
            if (addressReason !== undefined) problems.add(`registries[${i}].address`, addressReason);
            const userReason = r?.username === undefined || r.username === "" || isLate(r.username) ? undefined : usernameProblem(r.username);
            if (userReason !== undefined) problems.add(`registries[${i}].username`, userReason);
            const hasPassword = r?.password !== undefined && r.password !== "";
            const passwordReason = hasPassword && !isLate(r.password) ? secretTextProblem(r.password) : undefined;
            if (passwordReason !== undefined) problems.add(`registries[${i}].password`, passwordReason);
            if (r?.passwordCommand !== undefined) {
                if (hasPassword) {
                    problems.add(`registries[${i}].passwordCommand`, "cannot be combined with password: give one, the password or the command that prints it");
                } else if (typeof r.passwordCommand !== "string" || r.passwordCommand.trim() === "" || textProblem(r.passwordCommand, "") !== undefined) {
                    problems.invalid(
                        `registries[${i}].passwordCommand`,
                        r.passwordCommand,
                        'a shell command that prints the password, e.g. "aws ecr get-login-password --region eu-west-1"',
                    );
                }
            } else if (!hasPassword) {
                problems.missing(`registries[${i}].password`, "the registry password, or passwordCommand: a shell command that prints it");
            }
        });
    }

    // caches and the rest
    (args.cacheFrom ?? []).forEach((c: CacheFrom, i) => checkCache(problems, `cacheFrom[${i}]`, c, false));
    (args.cacheTo ?? []).forEach((c: CacheTo, i) => checkCache(problems, `cacheTo[${i}]`, c, true));
    for (const field of ["target", "network"] as const) {
        if (isLate(args[field])) {
            problems.add(field, "is an Output: expected a plain string (it is on the command line; a secret belongs in `secrets`)");
        }
    }
    if (args.network !== undefined && !isLate(args.network) && !NETWORKS.includes(args.network)) {
        problems.invalid("network", args.network, NETWORKS.map((n) => `"${n}"`).join(", "));
    }
    for (const [host, ip] of Object.entries(args.addHosts ?? {})) {
        if (!/^[A-Za-z0-9.-]+$/.test(host) || typeof ip !== "string" || !/^[0-9A-Fa-f.:]+$|^host-gateway$/.test(ip)) {
            problems.invalid(`addHosts.${host}`, ip, 'a host name mapped to an IP address (or "host-gateway")');
        }
    }
    for (const flag of ["noCache", "pull", "sbom"] as const) {
        problems.optionalBoolean(flag, args[flag]);
    }
    const provenanceReason = provenanceProblem(args.provenance);
    if (provenanceReason !== undefined) problems.add("provenance", provenanceReason);
    if (args.load === true && output.type === "oci") problems.add("load", 'cannot be combined with `output: { type: "oci" }`: give one output');
    if (args.target !== undefined && !isLate(args.target) && (typeof args.target !== "string" || !/^[A-Za-z0-9_.-]{1,256}$/.test(args.target))) {
        problems.invalid("target", args.target, "the name of a build stage");
    }

    if (args.builder !== undefined && typeof args.builder === "string") {
        const reason = builderNameProblem(args.builder);
        if (reason !== undefined) problems.add("builder", reason);
    }
    if (opts.requireBuilder && (typeof args.builder !== "string" || args.builder === "")) {
        problems.invalid("builder", args.builder, `the name of a buildx builder (e.g. the one withEphemeralBuilder gives): ${NAME_RULE}`);
    }

    const ssh = collectSsh(problems, args.ssh);
    const shape = checkPerPlatform(problems, args, platforms, output, builderNameProblem);

    problems.throwIfAny();
    return {
        context,
        dockerfile,
        dockerfileInline: args.dockerfileInline,
        platforms,
        tags,
        push,
        output,
        secretIds,
        registryPasswordCommands: Array.isArray(registries) ? registries.map((r) => r?.passwordCommand) : [],
        load: args.load === true,
        contexts,
        secretSources,
        ssh,
        ...shape,
    };
}

function checkCache(problems: InputProblems, where: string, c: CacheFrom | CacheTo, isTo: boolean): void {
    const type = (c as { type?: unknown })?.type;
    switch (type) {
        case "registry": {
            const ref = (c as { ref?: unknown }).ref;
            const reason = isLate(ref) ? undefined : cacheRefProblem(ref as string);
            if (reason !== undefined) problems.add(`${where}.ref`, reason);
            if (isTo) checkRegistryCacheOptions(problems, where, c as Record<string, unknown>);
            break;
        }
        case "local": {
            const dir = isTo ? (c as { dest?: unknown }).dest : (c as { src?: unknown }).src;
            const reason = dir === "" ? invalidReason(dir, "a directory path") : textProblem(dir, "a directory path", { csv: true });
            if (reason !== undefined) problems.add(`${where}.${isTo ? "dest" : "src"}`, reason);
            break;
        }
        case "s3":
            checkS3Cache(problems, where, c as S3Cache, isTo);
            break;
        case "inline":
            if (!isTo) problems.invalid(`${where}.type`, type, '"registry" or "local" (an inline cache is read with type "registry" and the image\'s ref)');
            break;
        default:
            problems.invalid(`${where}.type`, type, isTo ? '"registry", "local", "inline" or "s3"' : '"registry", "local" or "s3"');
    }
    const mode = (c as { mode?: unknown }).mode;
    if (isTo && mode !== undefined && mode !== "min" && mode !== "max") {
        problems.invalid(`${where}.mode`, mode, '"min" or "max"');
    }
}

/** Why a tag is not valid (quoting it), or undefined. */
export function tagProblem(tag: string): string | undefined {
    const result = parseReference(tag);
    if (!result.ok) return result.reason;
    if (result.ref.digest !== undefined)
        return `${quoteValue(tag)} is not valid: expected a reference without a digest (a tag names what is pushed; the digest is an output)`;
    return undefined;
}

/**
 * Checks tags once their Outputs are known, with the same messages as at construction; throws one
 * `InputPropertiesError` listing every bad one.
 */
export function checkTags(resourceName: string, tags: string[]): string[] {
    const problems = new InputProblems("MultiPlatformImage", resourceName);
    tags.forEach((t, i) => {
        const reason = tagProblem(t);
        if (reason !== undefined) problems.add(`tags[${i}]`, reason);
    });
    problems.throwIfAny();
    return tags;
}

const COMPRESSIONS = ["gzip", "zstd", "estargz", "uncompressed"];

function checkRegistryCacheOptions(problems: InputProblems, where: string, c: Record<string, unknown>): void {
    for (const flag of ["imageManifest", "ociMediatypes", "ignoreError"]) problems.optionalBoolean(`${where}.${flag}`, c[flag]);
    if (c.compression !== undefined && !COMPRESSIONS.includes(c.compression as string)) {
        problems.invalid(`${where}.compression`, c.compression, COMPRESSIONS.map((x) => `"${x}"`).join(", "));
    }
}

/** Why a cache `ref` is not valid, or undefined. The same check for a plain value and a late one. */
export function cacheRefProblem(ref: string): string | undefined {
    const result = typeof ref === "string" && !ref.includes("\r") ? parseReference(ref) : undefined;
    return result?.ok ? undefined : invalidReason(ref, "an image reference for the cache, e.g. registry.example.com/team/app:buildcache");
}

/** Why a build argument, label or annotation value is not valid, or undefined (plain or late). */
export function argValueProblem(value: unknown): string | undefined {
    return textProblem(value, "a string");
}

/** Why a registry address is not valid, or undefined (plain or late). */
export function registryAddressProblem(address: unknown): string | undefined {
    const valid = typeof address === "string" && address.length <= 1024 && /^[A-Za-z0-9[]/.test(address) && !/[/\s\0]|^https?:/.test(address);
    return valid ? undefined : invalidReason(address, "a registry host[:port] such as ghcr.io or 10.0.0.1:5000 (no scheme, no path)");
}

/** Why a registry user name is not valid, or undefined (plain or late). */
export function usernameProblem(username: unknown): string | undefined {
    return textProblem(username, "a user name");
}

/** Why `builder` does not name a buildx instance, or undefined (plain or late). */
export function builderNameProblem(name: unknown): string | undefined {
    return name === undefined || (typeof name === "string" && (name === "" || NAME_PATTERN.test(name)))
        ? undefined
        : invalidReason(name, `a buildx builder name: ${NAME_RULE}`);
}

/**
 * Why a secret value (build secret, registry password) cannot travel in an environment variable,
 * or undefined (plain or late). Never quotes the value.
 */
export function secretTextProblem(value: unknown): string | undefined {
    if (typeof value !== "string") return "is not a string: give the secret value itself";
    if (value.includes("\0")) return "holds a NUL byte, which no environment variable can carry";
    if (Buffer.byteLength(value, "utf8") > MAX_TEXT_BYTES) return `is longer than ${MAX_TEXT_BYTES} bytes, more than an environment variable passes safely`;
    return undefined;
}

/**
 * Why an output `dest` is not valid, or undefined. Besides the usual text rules: the export goes to
 * `<dest>.partial` beside it and is then renamed into place, so `dest` must be a path of its own. A
 * trailing `/` would put `<dest>.partial` inside `dest` (and the swap would delete it), and the
 * root, `.` or a parent cannot be replaced.
 */
export function destProblem(dest: unknown, what: string): string | undefined {
    if (dest === "") return invalidReason(dest, what);
    const text = textProblem(dest, what, { csv: true });
    if (text !== undefined || typeof dest !== "string") return text;
    if (dest.length > 1 && dest.endsWith("/"))
        return `${quoteValue(dest)} ends with "/": give the path without it, e.g. ${quoteValue(dest.replace(/\/+$/, ""))}`;
    const last = dest.split("/").pop();
    if (dest === "/" || last === "." || last === "..") {
        const why = "(it is written beside it, then renamed into place)";
        return `${quoteValue(dest)} is not a path of its own: give ${what} by a name of its own, e.g. "build/out" ${why}`;
    }
    return undefined;
}

/** The outputs other than `registry` and `oci`: `local`, `tar` (a `dest`) and `docker` (a load). */
function checkOtherOutput(problems: InputProblems, output: ImageOutput, args: MultiPlatformImageArgs): void {
    switch (output.type) {
        case "local":
        case "tar": {
            const what = output.type === "local" ? "the directory to export the files to" : "the tar file to write";
            const reason = destProblem(output.dest, what);
            if (reason !== undefined) problems.add("output.dest", reason);
            if (args.push === true)
                problems.add("push", `cannot be combined with \`output: { type: "${output.type}" }\`: it writes to disk, not to a registry`);
            if (args.load === true) problems.add("load", `cannot be combined with \`output: { type: "${output.type}" }\`: give one output`);
            break;
        }
        case "docker":
            if (args.load !== undefined) problems.add("load", 'cannot be combined with `output: { type: "docker" }`, which means the same: give one of them');
            break;
        default:
            problems.invalid("output.type", (output as { type: unknown }).type, '"registry", "oci", "local", "tar" or "docker"');
    }
}

/** Why `provenance` is not valid, or undefined. */
export function provenanceProblem(value: unknown): string | undefined {
    return value === undefined || typeof value === "boolean" || value === "min" || value === "max"
        ? undefined
        : invalidReason(value, 'true, false, "min" or "max"');
}

/** S3 bucket names: 3–63 lower-case letters, digits, `.` and `-`, starting and ending with a letter or digit. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{1,64}$/;

/** Records every problem of an S3 cache entry at `where` (e.g. `cacheTo[0]`). */
function checkS3Cache(problems: InputProblems, where: string, c: S3Cache, isTo: boolean): void {
    if (typeof c.bucket !== "string" || !BUCKET.test(c.bucket)) {
        problems.invalid(`${where}.bucket`, c.bucket, "an S3 bucket name (3-63 characters: a-z, 0-9, `.` and `-`)");
    }
    if (typeof c.region !== "string" || !REGION.test(c.region)) {
        problems.invalid(`${where}.region`, c.region, 'the bucket\'s region, e.g. "eu-west-1" (an S3-compatible server accepts any, e.g. "us-east-1")');
    }
    if (c.endpointUrl !== undefined && (typeof c.endpointUrl !== "string" || !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(c.endpointUrl))) {
        problems.invalid(`${where}.endpointUrl`, c.endpointUrl, 'an http(s) URL of an S3-compatible server, e.g. "http://10.0.0.5:9000"');
    }
    problems.optionalBoolean(`${where}.usePathStyle`, c.usePathStyle);
    for (const key of ["prefix", "name"] as const) {
        const value = c[key];
        if (value === undefined) continue;
        const reason = value === "" ? invalidReason(value, "a non-empty string (or leave it out)") : textProblem(value, "a string", { csv: true });
        if (reason !== undefined) problems.add(`${where}.${key}`, reason);
    }
    if (!isTo && c.mode !== undefined) problems.add(`${where}.mode`, "is for `cacheTo` only: a cache source has no mode");
    const secretish = Object.keys(c).filter((k) => /key|secret|token|password|credential/i.test(k));
    for (const k of secretish) {
        problems.add(
            `${where}.${k}`,
            "is not an argument: S3 credentials come only from the environment of the machine running Pulumi (AWS_* variables or a profile)",
        );
    }
}
