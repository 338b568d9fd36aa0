/**
 * Image references (`[host[:port]/]path[:tag][@digest]`), parsed with the grammar of
 * `distribution/reference`, the library Docker itself uses.
 */

const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const NAME = `(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)`;
const REFERENCE = new RegExp(`^${NAME}(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export const NAME_TOTAL_LENGTH_MAX = 255;

/** A parsed image reference. `repository` is everything before the tag or digest, as written. */
export interface ImageReference {
    /** Registry host and port, if written (`10.0.0.1:5000`, `ghcr.io`). */
    domain?: string;
    /** Repository path (`library/busybox`, `team/app`). */
    path: string;
    /** `domain/path`, or `path` when no domain was written. */
    repository: string;
    tag?: string;
    digest?: string;
}

export type ReferenceResult = { ok: true; ref: ImageReference } | { ok: false; reason: string };

/**
 * Parses an image reference. A first component is a domain only if it contains `.` or `:` or is
 * `localhost` (Docker's rule); otherwise it is part of the path.
 */
export function parseReference(input: string): ReferenceResult {
    if (typeof input !== "string" || input === "") {
        return { ok: false, reason: "an image reference must be a non-empty string such as registry.example.com/team/app:1.0" };
    }
    const m = REFERENCE.exec(input);
    if (!m) {
        const hint = /[A-Z]/.test(input.replace(/^[^/]*\//, "").split(/[:@]/)[0]) ? " (repository names must be lowercase)" : "";
        return {
            ok: false,
            reason:
                `${JSON.stringify(input)} is not a valid image reference${hint}: ` +
                `expected [host[:port]/]name[:tag][@sha256:digest], e.g. registry.example.com/team/app:1.0`,
        };
    }
    let domain: string | undefined = m[1];
    let path = m[2];
    const tag: string | undefined = m[3];
    const digest: string | undefined = m[4];
    if (domain !== undefined && !(domain.includes(".") || domain.includes(":") || domain === "localhost")) {
        // "team/app": "team" is a path component, not a registry host.
        if (!new RegExp(`^${PATH_COMPONENT}$`).test(domain)) {
            return {
                ok: false,
                reason: `${JSON.stringify(input)} is not a valid image reference: "${domain}" is neither a registry host nor a lowercase repository name`,
            };
        }
        path = `${domain}/${path}`;
        domain = undefined;
    }
    const repository = domain ? `${domain}/${path}` : path;
    if (repository.length > NAME_TOTAL_LENGTH_MAX) {
        return {
            ok: false,
            reason: `${JSON.stringify(input)} is not a valid image reference: the repository name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`,
        };
    }
    return { ok: true, ref: { domain, path, repository, tag, digest } };
}

/**
 * Docker Hub's names: `docker.io` (also what a reference without a domain means),
 * `index.docker.io` (distribution/reference normalises it to `docker.io`) and
 * `registry-1.docker.io` (the host the Docker Hub API answers on).
 */
const DOCKER_HUB = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/** The registry a parsed reference is in, with every name of Docker Hub as `docker.io`. */
export function registryOf(ref: ImageReference): string {
    return ref.domain === undefined || DOCKER_HUB.includes(ref.domain) ? "docker.io" : ref.domain;
}

/** `repository@digest`, the immutable form of a reference. */
export function pinnedRef(reference: string, digest: string): string {
    const result = parseReference(reference);
    if (!result.ok) {
        throw new Error(result.reason);
    }
    return `${result.ref.repository}@${digest}`;
}
