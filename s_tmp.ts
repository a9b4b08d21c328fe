import { startKafka, startMongo } from "./tools/servers.ts";
const [k, m] = await Promise.all([startKafka({ port: 39092, controller_port: 39093, name: "dev" }), startMongo({ port: 37017, name: "dev" })]);
console.log("READY", k.address, m.address);
await new Promise(() => {});
