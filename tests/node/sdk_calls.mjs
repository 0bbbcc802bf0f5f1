// Drives the official @azure/notification-hubs SDK through hubscope; one JSON line per call.
// Env: HUBSCOPE_CS (connection string), HUBSCOPE_HUB (hub name), HUBSCOPE_INSECURE=1 for plain http.
import * as nh from "@azure/notification-hubs";

const cs = process.env.HUBSCOPE_CS;
const hub = process.env.HUBSCOPE_HUB;
const allowHttp = {
  name: "allowInsecure",
  sendRequest: (req, next) => { req.allowInsecureConnection = true; return next(req); },
};
const options = process.env.HUBSCOPE_INSECURE === "1"
  ? { additionalPolicies: [{ policy: allowHttp, position: "perCall" }], retryOptions: { maxRetries: 0 } }
  : { retryOptions: { maxRetries: 0 } };
const client = new nh.NotificationHubsClient(cs, hub, options);

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

const apple = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0";
const tags = ["sdk", "likes_hockey"];
const pushVariables = { var1: "v1" };
const json = '{"data":{"message":"$(message)"}}';
const toast = '<toast><visual><binding template="ToastText01"><text id="1">$(message)</text></binding></visual></toast>';
const registrations = {
  Apple: nh.createAppleRegistrationDescription({ deviceToken: apple, tags, pushVariables }),
  AppleTemplate: nh.createAppleTemplateRegistrationDescription({ deviceToken: apple, tags, bodyTemplate: '{"aps":{"alert":"$(message)"}}', templateName: "alert" }),
  Adm: nh.createAdmRegistrationDescription({ admRegistrationId: "adm-sdk-1", tags }),
  AdmTemplate: nh.createAdmTemplateRegistrationDescription({ admRegistrationId: "adm-sdk-1", tags, bodyTemplate: json }),
  Baidu: nh.createBaiduRegistrationDescription({ baiduChannelId: "4242", baiduUserId: "baidu-user", tags }),
  BaiduTemplate: nh.createBaiduTemplateRegistrationDescription({ baiduChannelId: "4242", baiduUserId: "baidu-user", tags, bodyTemplate: json }),
  Browser: nh.createBrowserRegistrationDescription({ endpoint: "https://fcm.googleapis.com/fcm/send/sdk", p256dh: "BPsdk", auth: "sdkauth", tags }),
  BrowserTemplate: nh.createBrowserTemplateRegistrationDescription({ endpoint: "https://fcm.googleapis.com/fcm/send/sdk", p256dh: "BPsdk", auth: "sdkauth", tags, bodyTemplate: json }),
  Gcm: nh.createFcmLegacyRegistrationDescription({ gcmRegistrationId: "gcm-sdk-1", tags }),
  GcmTemplate: nh.createFcmLegacyTemplateRegistrationDescription({ gcmRegistrationId: "gcm-sdk-1", tags, bodyTemplate: json }),
  FcmV1: nh.createFcmV1RegistrationDescription({ fcmV1RegistrationId: "fcmv1-sdk-1", tags }),
  FcmV1Template: nh.createFcmV1TemplateRegistrationDescription({ fcmV1RegistrationId: "fcmv1-sdk-1", tags, bodyTemplate: json }),
  Windows: nh.createWindowsRegistrationDescription({ channelUri: "https://db5p.notify.windows.com/?token=sdk", tags }),
  WindowsTemplate: nh.createWindowsTemplateRegistrationDescription({ channelUri: "https://db5p.notify.windows.com/?token=sdk", tags, bodyTemplate: toast, wnsHeaders: { "X-WNS-Type": "wns/toast" } }),
  Xiaomi: nh.createXiaomiRegistrationDescription({ xiaomiRegistrationId: "xiaomi-sdk-1", tags }),
  XiaomiTemplate: nh.createXiaomiTemplateRegistrationDescription({ xiaomiRegistrationId: "xiaomi-sdk-1", tags, bodyTemplate: json }),
  Mpns: { kind: "Mpns", channelUri: "https://s.notify.live.net/u/1/sdk", tags },
  MpnsTemplate: { kind: "MpnsTemplate", channelUri: "https://s.notify.live.net/u/1/sdk", tags, bodyTemplate: toast, mpnsHeaders: { "X-WindowsPhone-Target": "toast" } },
};

const created = {};
for (const [kind, description] of Object.entries(registrations)) {
  const result = await call(`createRegistration ${kind}`, () => client.createRegistration(description));
  if (result) created[kind] = result;
}

const id = await call("createRegistrationId", () => client.createRegistrationId());
let upserted = await call("createOrUpdateRegistration", () =>
  client.createOrUpdateRegistration(nh.createAppleRegistrationDescription({ registrationId: id, deviceToken: apple, tags: ["upserted"] })));
const fetched = await call("getRegistration", () => client.getRegistration(id));
if (fetched) {
  fetched.tags = ["upserted", "updated"];
  await call("updateRegistration", () => client.updateRegistration(fetched));
}

async function collect(iterator) {
  const out = [];
  for await (const item of iterator) out.push(item.registrationId);
  return out;
}
await call("listRegistrations", () => collect(client.listRegistrations({ top: 5 })));
await call("listRegistrationsByTag", () => collect(client.listRegistrationsByTag("likes_hockey", { top: 5 })));
await call("listRegistrationsByChannel", () => collect(client.listRegistrationsByChannel({ kind: "apple", deviceToken: apple })));
for (const [kind, registration] of Object.entries(created)) {
  await call(`deleteRegistration ${kind}`, () => client.deleteRegistration(registration.registrationId, { etag: registration.etag }));
}
await call("deleteRegistration upserted", () => client.deleteRegistration(id));

const installations = [
  nh.createAppleInstallation({ installationId: "sdk-apns", pushChannel: apple, tags: ["likes_hockey"], userId: "user1",
    templates: { t1: { body: '{"aps":{"alert":"$(message)"}}', headers: { "apns-priority": "10" }, tags: ["tt"] } } }),
  nh.createFcmV1Installation({ installationId: "sdk-fcmv1", pushChannel: "fcmv1-sdk-2" }),
  nh.createFcmLegacyInstallation({ installationId: "sdk-gcm", pushChannel: "gcm-sdk-2" }),
  nh.createWindowsInstallation({ installationId: "sdk-wns", pushChannel: "https://db5p.notify.windows.com/?token=inst" }),
  nh.createBrowserInstallation({ installationId: "sdk-browser", pushChannel: { endpoint: "https://fcm.googleapis.com/fcm/send/inst", p256dh: "BPinst", auth: "instauth" } }),
  nh.createXiaomiInstallation({ installationId: "sdk-xiaomi", pushChannel: "xiaomi-sdk-2" }),
  nh.createBaiduInstallation({ installationId: "sdk-baidu", pushChannel: "baidu-sdk-2" }),
  nh.createAdmInstallation({ installationId: "sdk-adm", pushChannel: "adm-sdk-2" }),
];
for (const installation of installations) {
  await call(`createOrUpdateInstallation ${installation.platform}`, () => client.createOrUpdateInstallation(installation));
}
await call("updateInstallation", () => client.updateInstallation("sdk-apns", [
  { op: "add", path: "/tags", value: "likes_football" },
  { op: "remove", path: "/tags/likes_hockey" },
  { op: "replace", path: "/pushChannel", value: apple.toUpperCase() },
]));
await call("getInstallation", () => client.getInstallation("sdk-apns"));
for (const installation of installations) {
  await call(`deleteInstallation ${installation.platform}`, () => client.deleteInstallation(installation.installationId));
}
