/**
 * The `ec2BuilderProgram({ … })` calls written in documentation (JSDoc in src/, README.md,
 * docs/ and the examples' READMEs) are not type-checked by tsc. Each must give every required
 * field of `Ec2BuilderProgramArgs`, read from the interface itself, so a copied example compiles.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..", "..", "..", "..");
const CALL = "ec2BuilderProgram(";

/** The fields of `Ec2BuilderProgramArgs` without `?`. */
function requiredFields(): string[] {
    const file = path.join(ROOT, "src", "nodes", "ec2", "program.ts");
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const args = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "Ec2BuilderProgramArgs");
    assert.ok(args, "Ec2BuilderProgramArgs is not in src/nodes/ec2/program.ts");
    return args.members.filter((m) => ts.isPropertySignature(m) && m.questionToken === undefined).map((m) => (m.name as ts.Identifier).text);
}

/** Files whose documentation may show the call: every .ts under src/, and the Markdown files. */
function documentationFiles(): string[] {
    const walk = (dir: string, ext: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) return e.name === "node_modules" ? [] : walk(p, ext);
            return e.name.endsWith(ext) ? [p] : [];
        });
    return [
        ...walk(path.join(ROOT, "src"), ".ts"),
        path.join(ROOT, "README.md"),
        ...walk(path.join(ROOT, "docs"), ".md"),
        ...walk(path.join(ROOT, "examples"), ".md"),
    ];
}

/** The object literal given to each `ec2BuilderProgram({ … })` in `text` (JSDoc's leading `*` removed), with its line. */
function literalCalls(text: string): { line: number; literal: string }[] {
    const calls: { line: number; literal: string }[] = [];
    for (let at = text.indexOf(CALL); at >= 0; at = text.indexOf(CALL, at + 1)) {
        const open = at + CALL.length;
        if (text[open] !== "{") continue; // a variable or a helper's result: type-checked where it is built
        let depth = 0;
        let end = open;
        for (; end < text.length; end++) {
            if (text[end] === "{") depth++;
            if (text[end] === "}" && --depth === 0) break;
        }
        const literal = text.slice(open, end + 1).replace(/^\s*\*(?!\/) ?/gm, "");
        calls.push({ line: text.slice(0, at).split("\n").length, literal });
    }
    return calls;
}

/** The property names of an object literal (shorthand ones too); undefined when it spreads another object. */
function keysOf(literal: string): string[] | undefined {
    const source = ts.createSourceFile("call.ts", `(${literal});`, ts.ScriptTarget.ES2022, true);
    const statement = source.statements[0];
    assert.ok(statement && ts.isExpressionStatement(statement), literal);
    const expression = (statement.expression as ts.ParenthesizedExpression).expression;
    assert.ok(ts.isObjectLiteralExpression(expression), `not an object literal: ${literal}`);
    if (expression.properties.some(ts.isSpreadAssignment)) return undefined;
    return expression.properties.map((p) => (p.name as ts.Identifier).text);
}

describe("ec2BuilderProgram in the documentation", () => {
    it("every example call gives each required argument", () => {
        const required = requiredFields();
        assert.deepStrictEqual(required, ["platforms", "allowedCidrs", "sshPublicKey"]);
        const missing: string[] = [];
        let checked = 0;
        for (const file of documentationFiles()) {
            for (const { line, literal } of literalCalls(fs.readFileSync(file, "utf8"))) {
                const keys = keysOf(literal);
                if (keys === undefined) continue;
                checked++;
                const absent = required.filter((k) => !keys.includes(k));
                if (absent.length > 0) missing.push(`${path.relative(ROOT, file)}:${line} lacks ${absent.join(", ")}: ec2BuilderProgram(${literal})`);
            }
        }
        assert.deepStrictEqual(missing, []);
        assert.ok(checked >= 4, `only ${checked} example calls found: the search is broken`);
    });
});
