/**
 * The S3 cache (`--cache-from`/`--cache-to type=s3,…`): its buildx fields. Pure (checked in validate.ts).
 * Credentials are not among the fields: buildx reads them from the environment of the machine
 * running Pulumi and hands them to BuildKit over its API.
 */
import { S3Cache } from "./args";

/** buildx's fields of an S3 cache, in a fixed order, only those that are set (`mode` for `--cache-to` only). */
export function s3CacheFields(c: S3Cache, isTo: boolean): string[] {
    const fields = ["type=s3", `region=${c.region}`, `bucket=${c.bucket}`];
    if (c.endpointUrl !== undefined) fields.push(`endpoint_url=${c.endpointUrl}`);
    if (c.usePathStyle !== undefined) fields.push(`use_path_style=${c.usePathStyle}`);
    if (c.prefix !== undefined) fields.push(`prefix=${c.prefix}`);
    if (c.name !== undefined) fields.push(`name=${c.name}`);
    if (isTo) fields.push(`mode=${c.mode ?? "min"}`);
    return fields;
}
