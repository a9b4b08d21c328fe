// A MongoDB wire-protocol server for Vigil's integration tests (mongo-java-server).
// Usage: java -cp ".cache/mongo/libs/*" tools/mongo/MongoServerMain.java HOST PORT [DATA_FILE]
// With DATA_FILE the data is kept in an H2 MVStore file and survives a restart.
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

public class MongoServerMain {
  public static void main(String[] args) throws Exception {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 27017;
    MongoBackend backend = args.length > 2 ? new H2Backend(args[2]) : new MemoryBackend();
    MongoServer server = new MongoServer(backend);
    server.bind(host, port);
    System.out.println("READY " + host + ":" + port);
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdown();
      backend.close();
    }));
    Thread.currentThread().join();
  }
}
