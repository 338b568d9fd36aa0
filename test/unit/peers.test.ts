import * as assert from "assert";
import { requirePeers } from "../../src/peers";

describe("requirePeers: a subpath whose peer dependencies are missing says which, and how to install them", () => {
    const only =
        (...present: string[]) =>
        (id: string) => {
            if (present.includes(id)) return `/node_modules/${id}/index.js`;
            throw Object.assign(new Error(`Cannot find module '${id}'`), { code: "MODULE_NOT_FOUND" });
        };
    const install = ["@pulumi/aws", "@pulumi/tls", "@aws-sdk/client-ec2"];

    it("returns when every peer resolves", () => {
        assert.doesNotThrow(() => requirePeers("pulumi-buildx/aws", ["@pulumi/aws", "@pulumi/tls"], install, only("@pulumi/aws", "@pulumi/tls")));
    });

    it("names each missing peer and the whole install command", () => {
        assert.throws(
            () => requirePeers("pulumi-buildx/aws", ["@pulumi/aws", "@pulumi/tls"], install, only("@pulumi/tls")),
            /^Error: pulumi-buildx\/aws needs @pulumi\/aws, optional peer dependency of pulumi-buildx that is not installed: run `npm install @pulumi\/aws @pulumi\/tls @aws-sdk\/client-ec2` in your project$/,
        );
        assert.throws(
            () => requirePeers("pulumi-buildx/aws", ["@pulumi/aws", "@pulumi/tls"], install, only()),
            /needs @pulumi\/aws and @pulumi\/tls, optional peer dependencies of pulumi-buildx that are not installed/,
        );
    });

    it("resolves for real from this package (both peers are dev dependencies here)", () => {
        assert.doesNotThrow(() => requirePeers("pulumi-buildx/aws", ["@pulumi/aws", "@pulumi/tls"], install));
    });
});
