// Checks that every source map shipped in the installed pulumi-buildx points to files that are
// shipped too (so stack traces and go-to-definition reach real files). Run in the consumer project.
const fs = require("fs");
const path = require("path");
const dir = path.dirname(require.resolve("pulumi-buildx/package.json", { paths: [process.cwd()] }));
const missing = [];
let maps = 0;
const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (p.endsWith(".map")) {
            maps++;
            for (const source of JSON.parse(fs.readFileSync(p, "utf8")).sources) {
                const file = path.resolve(path.dirname(p), source);
                if (!fs.existsSync(file)) missing.push(path.relative(dir, file));
            }
        }
    }
};
walk(path.join(dir, "dist"));
if (maps === 0 || missing.length > 0) {
    console.error(`${maps} source maps; sources not shipped: ${missing.join(" ") || "(no maps at all)"}`);
    process.exit(1);
}
