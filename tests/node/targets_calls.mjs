// Devices of several platforms with overlapping tags, then debug sends, with the official SDK.
// Env: HUBSCOPE_CS (connection string), HUBSCOPE_HUB (hub name), HUBSCOPE_INSECURE=1 for plain http,
// HUBSCOPE_PHASE=expiring to create only the registration the hub's TTL will expire.
// One JSON line per call; sends print the registrations the hub's debug answer names.
import * as nh from "@azure/notification-hubs";

const allowHttp = {
  name: "allowInsecure",
  sendRequest: (req, next) => { req.allowInsecureConnection = true; return next(req); },
};
const options = process.env.HUBSCOPE_INSECURE === "1"
  ? { additionalPolicies: [{ policy: allowHttp, position: "perCall" }], retryOptions: { maxRetries: 0 } }
  : { retryOptions: { maxRetries: 0 } };
const client = new nh.NotificationHubsClient(process.env.HUBSCOPE_CS, process.env.HUBSCOPE_HUB, options);

async function call(name, fn) {
  try {
    const result = await fn();
    console.log(JSON.stringify({ call: name, ok: true, result: result ?? null }));
    return result;
  } catch (error) {
    console.log(JSON.stringify({ call: name, ok: false, status: error.statusCode ?? null, error: String(error.message) }));
    return undefined;
  }
}

const token = (n) => n.repeat(32);
const json = '{"data":{"message":"$(message)"}}';
if (process.env.HUBSCOPE_PHASE === "expiring") {
  await call("createRegistration appleExpired", () => client.createRegistration(
    nh.createAppleRegistrationDescription({ deviceToken: token("a5"), tags: ["a"] })));
  process.exit(0);
}
const registrations = {
  appleAC: nh.createAppleRegistrationDescription({ deviceToken: token("a1"), tags: ["a", "c"] }),
  appleAB: nh.createAppleRegistrationDescription({ deviceToken: token("a2"), tags: ["a", "b"] }),
  fcmBC: nh.createFcmV1RegistrationDescription({ fcmV1RegistrationId: "fcm-bc", tags: ["b", "c"] }),
  wnsA: nh.createWindowsRegistrationDescription({ channelUri: "https://db5p.notify.windows.com/?token=a", tags: ["a"] }),
  gcmABC: nh.createFcmLegacyRegistrationDescription({ gcmRegistrationId: "gcm-abc", tags: ["a", "b", "c"] }),
  appleTemplateAC: nh.createAppleTemplateRegistrationDescription({
    deviceToken: token("a3"), tags: ["a", "c"], bodyTemplate: '{"aps":{"alert":"$(message)"}}', templateName: "alert" }),
  appleGone: nh.createAppleRegistrationDescription({ deviceToken: token("a4"), tags: ["a"] }),
};
const created = {};
for (const [name, description] of Object.entries(registrations)) {
  created[name] = await call(`createRegistration ${name}`, () => client.createRegistration(description));
}
await call("createOrUpdateInstallation inst-apns", () => client.createOrUpdateInstallation(
  nh.createAppleInstallation({ installationId: "inst-apns", pushChannel: token("b1"), tags: ["a", "c"], userId: "u1",
    templates: { promo: { body: '{"aps":{"alert":"$(message)"}}', tags: ["vip"] } } })));
await call("createOrUpdateInstallation inst-fcm", () => client.createOrUpdateInstallation(
  nh.createFcmV1Installation({ installationId: "inst-fcm", pushChannel: "fcm-inst", tags: ["b"],
    templates: { welcome: { body: json } } })));
await call("createOrUpdateInstallation inst-stale", () => client.createOrUpdateInstallation(
  nh.createFcmV1Installation({ installationId: "inst-stale", pushChannel: "fcm-stale", tags: ["b", "c"] })));
await call("getInstallation inst-stale", () => client.getInstallation("inst-stale"));
await call("deleteRegistration appleGone", () => client.deleteRegistration(created.appleGone.registrationId));
await call("listRegistrations", async () => {
  const ids = [];
  for await (const r of client.listRegistrations({ top: 50 })) ids.push(r.registrationId);
  return ids;
});

const tags21 = Array.from({ length: 21 }, (_, n) => `t${n}`).join(" || ");
const apple = nh.createAppleNotification({ body: '{"aps":{"alert":"hi"}}' });
const template = nh.createTemplateNotification({ body: { message: "hi" } });
const fcm = nh.createFcmV1Notification({ body: '{"message":{"notification":{"body":"hi"}}}' });
const toast = nh.createWindowsToastNotification({
  body: '<toast><visual><binding template="ToastText01"><text id="1">hi</text></binding></visual></toast>' });
const gcm = nh.createFcmLegacyNotification({ body: '{"data":{"message":"hi"}}' });
const sends = [
  ["apple a && !b", apple, { tagExpression: "a && !b", enableTestSend: true }],
  ["template (a || b) && c", template, { tagExpression: "(a || b) && c", enableTestSend: true }],
  ["fcmv1 (a || b) && c", fcm, { tagExpression: "(a || b) && c", enableTestSend: true }],
  ["windows a", toast, { tagExpression: "a", enableTestSend: true }],
  ["gcm broadcast", gcm, { enableTestSend: true }],
  ["gcm c && a", gcm, { tagExpression: "c && a", enableTestSend: true }],
  ["template welcome", template, { tagExpression: "welcome", enableTestSend: true }],
  ["apple 21 tags", apple, { tagExpression: tags21, enableTestSend: true }],
];
for (const [name, notification, sendOptions] of sends) {
  await call(`sendNotification ${name}`, async () => {
    const result = await client.sendNotification(notification, sendOptions);
    return { results: result.results ?? [], successCount: result.successCount ?? null };
  });
}
