// Prints the newest @pulumi/pulumi version in RANGE whose `engines.node` this Node satisfies.
// Reads `npm view "@pulumi/pulumi@RANGE" version engines.node --json` on stdin.
// (@pulumi/pulumi 3.249 and later declare node >=22; on Node 20 the newest usable is 3.248.x.)
const semver = require("semver");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const entries = Array.isArray(input) ? input : [input];
const usable = entries
    .filter((e) => semver.valid(e.version) && !semver.prerelease(e.version))
    .filter((e) => !e["engines.node"] || semver.satisfies(process.version, e["engines.node"]))
    .map((e) => e.version)
    .sort(semver.rcompare);
if (usable.length === 0) {
    console.error(`no @pulumi/pulumi version in that range supports Node ${process.version}`);
    process.exit(1);
}
console.log(usable[0]);
