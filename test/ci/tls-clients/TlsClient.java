// The RabbitMQ Java client over TLS, as its users write one: an SSLContext from a trust store with
// the CA and a key store with the client certificate (PKCS#12), PLAIN or EXTERNAL (DefaultSaslConfig).
// (Client 5.0.0 has no enableHostnameVerification(); the chain is still checked against the CA.)
// Usage: TlsClient <host> <port> <ca.pem> <client.p12> <p12-password> <plain|external>
// Prints `RESULT {json}` and exits 0; any error exits 1.
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultSaslConfig;
import com.rabbitmq.client.GetResponse;
import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class TlsClient {
  public static void main(String[] args) throws Exception {
    String host = args[0], ca = args[2], p12 = args[3], mode = args[5];
    int port = Integer.parseInt(args[1]);
    char[] password = args[4].toCharArray();
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (FileInputStream in = new FileInputStream(ca)) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(p12)) {
      keys.load(in, password);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, password);
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);

    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(host);
    factory.setPort(port);
    factory.useSslProtocol(context);
    if (mode.equals("external")) factory.setSaslConfig(DefaultSaslConfig.EXTERNAL);
    else {
      factory.setUsername("guest");
      factory.setPassword("guest");
    }
    try (Connection conn = factory.newConnection()) {
      Channel ch = conn.createChannel();
      String q = ch.queueDeclare().getQueue();
      ch.basicPublish("", q, null, "java over tls".getBytes(StandardCharsets.UTF_8));
      String body = null;
      for (int i = 0; i < 100 && body == null; i++) {
        GetResponse r = ch.basicGet(q, true);
        if (r != null) body = new String(r.getBody(), StandardCharsets.UTF_8);
      }
      System.out.println("RESULT {\"body\":\"" + body + "\"}");
    }
  }
}
