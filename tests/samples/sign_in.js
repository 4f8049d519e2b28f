// Sign in and print the answer: {"token": "...", "expires": "..."}.
//
//   ROSTER_USERNAME=admin ROSTER_PASSWORD=... node sign_in.js
//
// ROSTER_URL is the server's address (default http://127.0.0.1:8000). The
// password travels in the environment, not on the command line, so other
// users of the machine cannot read it from the process list.
var http = require("http");

var base = new URL(process.env.ROSTER_URL || "http://127.0.0.1:8000");

var options = {
  "method": "POST",
  "hostname": base.hostname,
  "port": base.port || 80,
  "path": base.pathname.replace(/\/$/, "") + "/api/v2.5/auth-token/",
  "headers": {
    "content-type": "application/json"
  }
};

var req = http.request(options, function (res) {
  var chunks = [];

  res.on("data", function (chunk) {
    chunks.push(chunk);
  });

  res.on("end", function () {
    var body = Buffer.concat(chunks);
    console.log(body.toString());
    if (res.statusCode >= 400) {
      process.exitCode = 1;
    }
  });
});

req.on("error", function (error) {
  console.error(error.message);
  process.exitCode = 1;
});

req.write(JSON.stringify({
  username: process.env.ROSTER_USERNAME,
  password: process.env.ROSTER_PASSWORD
}));
req.end();
