// Prints the first ```ts block after the first line of FILE that contains MARKER.
// Usage: node readme-block.js FILE MARKER
const [file, marker] = process.argv.slice(2);
const text = require("fs").readFileSync(file, "utf8");
const at = text.indexOf(marker);
const block = at < 0 ? null : /```ts\n([\s\S]*?)```/.exec(text.slice(at));
if (block === null) {
    console.error(`${file}: no ts block after ${JSON.stringify(marker)}`);
    process.exit(1);
}
process.stdout.write(block[1]);
