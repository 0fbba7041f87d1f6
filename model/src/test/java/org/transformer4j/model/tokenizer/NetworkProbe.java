// NetworkProbe — run in a child JVM by TokenizerTest: records every http(s) URL the process opens
// (through a URL stream handler factory, which sees connections that bypass proxies too, and
// refuses them), loads a tokenizer.json through HfTokenizer, and prints what happened.
package org.transformer4j.model.tokenizer;

import java.io.IOException;
import java.net.Proxy;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

public final class NetworkProbe {

    private NetworkProbe() {}

    public static void main(String[] args) throws Exception {
        List<String> opened = new CopyOnWriteArrayList<>();
        URL.setURLStreamHandlerFactory(protocol -> !protocol.equals("http") && !protocol.equals("https") ? null
                : new URLStreamHandler() {
                    @Override
                    protected URLConnection openConnection(URL u) throws IOException { return openConnection(u, null); }

                    @Override
                    protected URLConnection openConnection(URL u, Proxy p) throws IOException {
                        opened.add(u.toString());
                        throw new IOException("network refused by NetworkProbe: " + u);
                    }
                });
        String result;
        try (HfTokenizer t = HfTokenizer.load(Path.of(args[0]))) {
            result = Arrays.toString(t.encode("Hello world!"));
        } catch (Exception e) {
            result = "failed: " + e;
        }
        System.out.println("OPT_OUT_TRACKING=" + System.getProperty(DjlTracking.PROPERTY));
        System.out.println("ai.djl.offline=" + System.getProperty("ai.djl.offline"));
        System.out.println("ids=" + result);
        System.out.println("opened=" + opened);
    }
}
