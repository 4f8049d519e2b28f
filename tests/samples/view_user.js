// Find a user by email and print the answer: a page of at most one user, with
// the user's batches.
//
//   ROSTER_TOKEN=... node view_user.js EMAIL
//
// ROSTER_URL is the server's address (default http://127.0.0.1:8000),
// ROSTER_TOKEN a token from sign_in.js of a user allowed to view users.
var http = require("http");

var base = new URL(process.env.ROSTER_URL || "http://127.0.0.1:8000");

var options = {
  "method": "GET",
  "hostname": base.hostname,
  "port": base.port || 80,
  "path": base.pathname.replace(/\/$/, "") + "/api/v2.5/admin/users/?email="
    + encodeURIComponent(process.argv[2]),
  "headers": {
    "authorization": "JWT " + process.env.ROSTER_TOKEN
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

req.end();
