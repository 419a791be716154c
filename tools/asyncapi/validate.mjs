// Validates AsyncAPI documents with the official parser; exits 1 naming every error.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const path of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(path, "utf8"));
  const errors = diagnostics.filter((d) => d.severity === 0);
  if (!document || errors.length > 0) {
    failed = true;
    console.log(`${path}: INVALID`);
    for (const e of errors) console.log(`  ${e.path.join(".") || "(root)"}: ${e.message}`);
  } else {
    console.log(`${path}: valid AsyncAPI ${document.version()} (${document.channels().length} channels)`);
  }
}
process.exit(failed ? 1 : 0);
