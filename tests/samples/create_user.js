// Create a user who joins two batches until an expiry date, and print the
// created user.
//
//   ROSTER_TOKEN=... node create_user.js [USERNAME [EMAIL [EXPIRES]]]
//
// ROSTER_URL is the server's address (default http://127.0.0.1:8000),
// ROSTER_TOKEN a token from sign_in.js of a user allowed to add users. The
// batches "Test Batch" and "UPSC Morning Batch" must exist. EXPIRES is a
// date, yyyy-mm-dd (default: a year from today).
var http = require("http");

var base = new URL(process.env.ROSTER_URL || "http://127.0.0.1:8000");
var args = process.argv.slice(2);
var nextYear = new Date();
nextYear.setFullYear(nextYear.getFullYear() + 1);

var options = {
  "method": "POST",
  "hostname": base.hostname,
  "port": base.port || 80,
  "path": base.pathname.replace(/\/$/, "") + "/api/v2.5/admin/users/",
  "headers": {
    "content-type": "application/json",
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

req.write(JSON.stringify({
  username: args[0] || "lorem",
  password: "ipsum-dolor-1",
  first_name: "John",
  last_name: "Appleseed",
  email: args[1] || "lorem@example.com",
  birth_date: "03/07/2016",
  state: "IN-TN",
  batches: ["Test Batch", "UPSC Morning Batch"],
  expires: args[2] || nextYear.toISOString().slice(0, 10)
}));
req.end();
