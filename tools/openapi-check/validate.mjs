// Validates an OpenAPI document (JSON or YAML) against the OpenAPI 3.1 schemas, with
// @seriousme/openapi-schema-validator: independent of keel, so it checks what keel emits.
//   node tools/openapi-check/validate.mjs openapi.json
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
if (!file) {
    console.error("usage: node validate.mjs <openapi.json>");
    process.exit(2);
}
const validator = new Validator();
const result = await validator.validate(file);
if (!result.valid) {
    console.error(`${file}: not a valid OpenAPI document`);
    console.error(JSON.stringify(result.errors, null, 2));
    process.exit(1);
}
if (validator.version !== "3.1") {
    console.error(`${file}: OpenAPI ${validator.version}, expected 3.1`);
    process.exit(1);
}
console.log(`${file}: valid OpenAPI ${validator.version}`);
