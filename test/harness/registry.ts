/**
 * A small client for the registry's own HTTP API (distribution v2), used to check what builds
 * pushed without going through docker, buildx or our parsers.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import type { TestEnv } from "./testenv";
import * as https from "https";
import * as zlib from "zlib";

export interface RegistryClientOptions {
    /** `https://host:port` */
    url: string;
    caCert: string;
    username?: string;
    password?: string;
}

export const ACCEPT_MANIFESTS = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export interface Fetched {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
}

export class RegistryClient {
    private readonly ca: Buffer;
    constructor(private readonly opts: RegistryClientOptions) {
        this.ca = fs.readFileSync(opts.caCert);
    }

    /** A client of the test environment's registry with basic auth, logged in as its user. */
    static forAuthRegistry(env: TestEnv): RegistryClient {
        const r = env.authRegistry;
        return new RegistryClient({ url: r.url, caCert: env.caCert, username: r.username, password: r.password });
    }

    /** Whether `repository:reference` exists (a manifest answers). */
    has(repository: string, reference: string): Promise<boolean> {
        return this.manifest(repository, reference).then(
            () => true,
            () => false,
        );
    }

    get(pathname: string, accept?: string): Promise<Fetched> {
        const headers: Record<string, string> = {};
        if (accept) headers.Accept = accept;
        if (this.opts.username !== undefined) {
            headers.Authorization = `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ""}`).toString("base64")}`;
        }
        return new Promise((resolve, reject) => {
            const req = https.get(new URL(pathname, this.opts.url), { ca: this.ca, headers, timeout: 30_000 }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
            });
            req.on("error", reject);
        });
    }

    /**
     * A manifest or index by tag or digest. Checks the registry's `Docker-Content-Digest` header
     * against the sha256 of the bytes it sent.
     */
    async manifest(repository: string, reference: string): Promise<{ digest: string; mediaType: string; json: any; raw: Buffer }> {
        const res = await this.get(`/v2/${repository}/manifests/${reference}`, ACCEPT_MANIFESTS);
        if (res.status !== 200) {
            throw new Error(`registry: GET manifest ${repository}:${reference} answered ${res.status}: ${res.body.toString()}`);
        }
        const digest = `sha256:${createHash("sha256").update(res.body).digest("hex")}`;
        const header = res.headers["docker-content-digest"];
        if (header !== undefined && header !== digest) {
            throw new Error(`registry: Docker-Content-Digest ${header} does not match the body's sha256 ${digest}`);
        }
        const json = JSON.parse(res.body.toString("utf8"));
        return { digest, mediaType: json.mediaType ?? String(res.headers["content-type"]), json, raw: res.body };
    }

    async blob(repository: string, digest: string): Promise<Buffer> {
        const res = await this.get(`/v2/${repository}/blobs/${digest}`);
        if (res.status === 307 || res.status === 302) {
            throw new Error("registry: blob redirects are not supported by this test client");
        }
        if (res.status !== 200) {
            throw new Error(`registry: GET blob ${repository}@${digest} answered ${res.status}`);
        }
        return res.body;
    }

    /** Per-platform manifest digests straight from the index, attestations excluded. */
    async platformsOf(repository: string, reference: string): Promise<{ digest: string; platforms: Record<string, string> }> {
        const index = await this.manifest(repository, reference);
        const platforms: Record<string, string> = {};
        for (const m of index.json.manifests ?? []) {
            const p = m.platform;
            if (!p || p.os === "unknown") continue;
            const key = [p.os, p.architecture, p.variant].filter((x) => x).join("/");
            if (platforms[key] !== undefined) throw new Error(`registry: ${key} appears twice in ${repository}@${index.digest}`);
            platforms[key] = m.digest;
        }
        return { digest: index.digest, platforms };
    }

    /** Reads one file out of an image's layers (the last layer that has it wins). */
    async readFile(repository: string, manifestDigest: string, filePath: string): Promise<string | undefined> {
        const manifest = await this.manifest(repository, manifestDigest);
        let found: string | undefined;
        for (const layer of manifest.json.layers ?? []) {
            const blob = await this.blob(repository, layer.digest);
            const tar = String(layer.mediaType).includes("gzip") ? zlib.gunzipSync(blob) : blob;
            const content = fileInTar(tar, filePath.replace(/^\//, ""));
            if (content !== undefined) found = content;
        }
        return found;
    }
}

/** Finds a regular file in an uncompressed tar archive (ustar headers). */
export function fileInTar(tar: Buffer, wanted: string): string | undefined {
    let offset = 0;
    while (offset + 512 <= tar.length) {
        const header = tar.subarray(offset, offset + 512);
        if (header.every((b) => b === 0)) break;
        const field = (start: number, len: number) =>
            header
                .subarray(start, start + len)
                .toString("utf8")
                .replace(/\0.*$/s, "");
        const prefix = field(345, 155);
        const name = (prefix ? `${prefix}/` : "") + field(0, 100);
        const size = parseInt(field(124, 12).trim() || "0", 8);
        const type = field(156, 1);
        const start = offset + 512;
        if ((type === "0" || type === "") && name.replace(/^\.\//, "") === wanted) {
            return tar.subarray(start, start + size).toString("utf8");
        }
        offset = start + Math.ceil(size / 512) * 512;
    }
    return undefined;
}
