// Drive the official @azure/notification-hubs SDK, unmodified, against hubscope over HTTPS.
//
// Run by tests/sdk.py run_node_script (copied beside .deps/node/node_modules).
// Environment: HUBSCOPE_CS (Endpoint=sb://127.0.0.1:PORT/;…), HUBSCOPE_HUB (hub name).
// Trust comes only from NODE_EXTRA_CA_CERTS; the client gets no options at all.
// With HUBSCOPE_EXPECT_REJECT=1 it makes one call and reports how it failed.
// Prints one JSON line per step.
import {
  NotificationHubsClient,
  createAppleRegistrationDescription,
  createAppleInstallation,
} from "@azure/notification-hubs";

const client = new NotificationHubsClient(process.env.HUBSCOPE_CS, process.env.HUBSCOPE_HUB);
const token = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0";
const say = (step, value) => console.log(JSON.stringify({ step, ...value }));

if (process.env.HUBSCOPE_EXPECT_REJECT === "1") {
  try {
    await client.getInstallation("never-reached");
    say("rejected", { ok: true });
  } catch (error) {
    say("rejected", { ok: false, code: error.code ?? null, message: String(error.message) });
  }
  process.exit(0);
}

const created = await client.createRegistration(
  createAppleRegistrationDescription({ deviceToken: token, tags: ["tls-smoke"] }),
);
say("registration.create", { id: created.registrationId, etag: created.etag });
const fetched = await client.getRegistration(created.registrationId);
say("registration.get", { id: fetched.registrationId, tags: fetched.tags });
await client.deleteRegistration(created.registrationId);
say("registration.delete", { id: created.registrationId });

const installationId = "tls-smoke-installation";
await client.createOrUpdateInstallation(
  createAppleInstallation({ installationId, pushChannel: token, tags: ["tls-smoke"] }),
);
say("installation.createOrUpdate", { id: installationId });
const installation = await client.getInstallation(installationId);
say("installation.get", { id: installation.installationId, platform: installation.platform });
await client.deleteInstallation(installationId);
say("installation.delete", { id: installationId });
