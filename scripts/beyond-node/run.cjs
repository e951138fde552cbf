// The same as run.mjs through the CommonJS build: app.cjs is app.mjs turned into CommonJS by the
// test, so each `require('cloudhop…')` loads the package's .cjs files.
const { converse } = require('./app.cjs');

converse(JSON.parse(process.argv[2])).then((report) => console.log(JSON.stringify(report)));
