/**
 * The package's entry points as a consumer loads them: the root loads neither @pulumi/aws nor
 * @pulumi/tls (a QEMU-only program need not install them), `pulumi-buildx/aws` does, and the
 * exports map, the types of node10 resolution (typesVersions) and the sources agree.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

/** The @pulumi packages a fresh Node process has loaded after requiring `entry` (a source path). */
function pulumiPackagesLoadedBy(entry: string): string[] {
    const script = `require(${JSON.stringify(entry)}); const seen = new Set(); for (const f of Object.keys(require.cache)) { const m = /node_modules\\/(@pulumi\\/[^/]+)\\//.exec(f); if (m) seen.add(m[1]); } console.log(JSON.stringify([...seen].sort()));`;
    return JSON.parse(execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, encoding: "utf8" }));
}

describe("package entry points", () => {
    it("the root loads neither @pulumi/aws nor @pulumi/tls", () => {
        assert.deepStrictEqual(pulumiPackagesLoadedBy("./src"), ["@pulumi/command", "@pulumi/pulumi"]);
    });

    it("pulumi-buildx/aws loads @pulumi/aws and @pulumi/tls", () => {
        assert.deepStrictEqual(pulumiPackagesLoadedBy("./src/aws"), ["@pulumi/aws", "@pulumi/command", "@pulumi/pulumi", "@pulumi/tls"]);
    });

    it("pulumi-buildx/testing loads no @pulumi package at all (its Pulumi import is types only)", () => {
        assert.deepStrictEqual(pulumiPackagesLoadedBy("./src/testing"), []);
    });

    it("every subpath export has types, under exports and typesVersions, built from a source file", () => {
        for (const [subpath, target] of Object.entries(pkg.exports as Record<string, { types: string; default: string } | string>)) {
            if (typeof target === "string") continue;
            const source = target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts");
            assert.ok(fs.existsSync(path.join(ROOT, source)), `${subpath}: no ${source}`);
            assert.strictEqual(target.types, target.default.replace(/\.js$/, ".d.ts"), subpath);
            if (subpath !== ".") assert.deepStrictEqual(pkg.typesVersions["*"][subpath.slice(2)], [target.types.slice(2)], `typesVersions of ${subpath}`);
        }
        assert.strictEqual(`./${pkg.types}`, pkg.exports["."].types);
        assert.strictEqual(`./${pkg.main}`, pkg.exports["."].default);
    });

    it("@pulumi/pulumi is a peer dependency (one SDK per program), @pulumi/aws and @pulumi/tls optional ones", () => {
        assert.strictEqual(pkg.dependencies["@pulumi/pulumi"], undefined);
        assert.match(pkg.peerDependencies["@pulumi/pulumi"], /^>=3\.\d+\.\d+ <4$/);
        for (const name of ["@pulumi/aws", "@pulumi/tls"]) {
            assert.strictEqual(pkg.dependencies[name], undefined, name);
            assert.deepStrictEqual(pkg.peerDependenciesMeta[name], { optional: true }, name);
        }
        assert.ok(pkg.dependencies["@pulumi/command"]);
    });

    it("pulumi-buildx/aws's module doc names every optional peer it needs, in its npm install line too", () => {
        const doc = /^\/\*\*([\s\S]*?)\*\//.exec(fs.readFileSync(path.join(ROOT, "src", "aws.ts"), "utf8"))![1].replace(/\s*\n\s*\*\s*/g, " ");
        const optional = Object.keys(pkg.peerDependenciesMeta).filter((name) => pkg.peerDependenciesMeta[name].optional);
        assert.deepStrictEqual([...optional].sort(), ["@aws-sdk/client-ec2", "@pulumi/aws", "@pulumi/tls"]);
        const install = /`npm install ([^`]+)`/.exec(doc);
        assert.ok(install, `an npm install line in: ${doc}`);
        for (const name of optional) {
            assert.ok(doc.includes(`\`${name}\``), `${name} named in the doc: ${doc}`);
            assert.ok(install[1].split(" ").includes(name), `${name} in \`npm install ${install[1]}\``);
        }
    });
});
