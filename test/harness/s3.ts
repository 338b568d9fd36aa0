/**
 * The S3-compatible server of the test environment (`scripts/testenv/s3.sh`: moto on the bridge
 * address), as the tests see it. Its facts are in their own fragment, `<testenv dir>/s3.json`.
 */
import * as fs from "fs";
import * as path from "path";
import { TestEnv } from "./testenv";

export interface TestS3 {
    /** `http://10.213.77.1:9555`: reachable from every buildkitd of the environment. */
    endpoint: string;
    region: string;
    /** A bucket that exists. */
    bucket: string;
    /** The test-only key pair (moto does not check signatures; tests prove it leaks nowhere). */
    accessKeyId: string;
    secretAccessKey: string;
}

/** Reads s3.json and checks that the server answers; fails naming the script to run otherwise. */
export async function loadS3(env: TestEnv): Promise<TestS3> {
    const file = path.join(env.dir ?? "/var/lib/pulumi-buildx-testenv", "s3.json");
    if (!fs.existsSync(file)) throw new Error(`test environment part missing: ${file} (run scripts/testenv/s3.sh up, or scripts/test-env.sh up)`);
    const s3 = JSON.parse(fs.readFileSync(file, "utf8")) as TestS3;
    const res = await fetch(`${s3.endpoint}/${s3.bucket}`, { method: "HEAD" }).catch((err: Error) => err);
    if (res instanceof Error || !res.ok) {
        throw new Error(`test environment part down: S3 server ${s3.endpoint}/${s3.bucket} (${res instanceof Error ? res.message : res.status})`);
    }
    return s3;
}

/** The object keys under `prefix` in the bucket (ListObjectsV2, unsigned: moto does not check). */
export async function s3Keys(s3: TestS3, prefix: string): Promise<string[]> {
    const res = await fetch(`${s3.endpoint}/${s3.bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
    if (!res.ok) throw new Error(`S3 list ${s3.bucket}/${prefix}: HTTP ${res.status}`);
    return [...(await res.text()).matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
}
