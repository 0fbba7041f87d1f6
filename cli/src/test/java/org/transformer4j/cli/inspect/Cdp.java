// Cdp — a minimal Chrome DevTools Protocol client for tests: starts headless Chromium on a fresh
// profile, talks to it over a WebSocket (java.net.http, no extra dependency), and sends commands to
// one page session. Just enough to open a page, evaluate JavaScript, move the mouse and take a screenshot.
package org.transformer4j.cli.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

final class Cdp implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Generous for a loaded 2-core CI machine; a healthy browser answers in milliseconds. */
    private static final long TIMEOUT_S = 60;

    /** The flags that keep Chromium quiet on a machine without network or GPU (and as root, in CI containers). */
    static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--window-size=1200,900");

    private final Process browser;
    private final WebSocket socket;
    private final AtomicInteger nextId = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    /** Events received, in order (method and params), e.g. Runtime.exceptionThrown. */
    final List<JsonNode> events = new CopyOnWriteArrayList<>();
    private String session;

    /** The Chromium binary: $T4J_CHROMIUM, else chromium / chromium-browser / google-chrome on the PATH. */
    static Optional<Path> findChromium() {
        String env = System.getenv("T4J_CHROMIUM");
        if (env != null && !env.isBlank()) return Optional.of(Path.of(env)).filter(Files::isExecutable);
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
            for (String name : new String[] {"chromium", "chromium-browser", "google-chrome"}) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    Cdp(Path chromium, Path profile) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(chromium.toString());
        cmd.addAll(FLAGS);
        cmd.add("--user-data-dir=" + profile);
        cmd.add("--remote-debugging-address=127.0.0.1");
        cmd.add("--remote-debugging-port=0");   // any free port; Chromium writes it to DevToolsActivePort
        cmd.add("about:blank");
        browser = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile()).start();
        try {
            socket = connect(profile);
        } catch (IOException | InterruptedException | RuntimeException e) {
            stop();
            throw e;
        }
    }

    /** Waits for the DevTools port Chromium writes into the profile, and opens the browser's WebSocket. */
    private WebSocket connect(Path profile) throws IOException, InterruptedException {
        Path portFile = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        List<String> lines = List.of();
        while (lines.size() < 2) {
            if (!browser.isAlive()) {
                throw new IOException("chromium exited with " + browser.exitValue() + ": " + log(profile));
            }
            if (System.nanoTime() > deadline) throw new IOException("chromium did not open its DevTools port: " + log(profile));
            Thread.sleep(50);
            if (Files.exists(portFile)) lines = Files.readAllLines(portFile);
        }
        URI uri = URI.create("ws://127.0.0.1:" + lines.get(0).strip() + lines.get(1).strip());
        try {
            return HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, new Listener()).get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("cannot connect to chromium's DevTools at " + uri + ": " + e, e);
        }
    }

    /** Opens a new page at about:blank and makes it the target of {@link #page} commands. */
    void openPage() throws Exception {
        String target = browser("Target.createTarget", JSON.createObjectNode().put("url", "about:blank"))
                .get("targetId").asText();
        session = browser("Target.attachToTarget", JSON.createObjectNode().put("targetId", target).put("flatten", true))
                .get("sessionId").asText();
    }

    /** A command to the browser; its result, or an AssertionError with the protocol's error. */
    JsonNode browser(String method, ObjectNode params) throws Exception {
        return send(null, method, params);
    }

    /** A command to the page opened by {@link #openPage}. */
    JsonNode page(String method, ObjectNode params) throws Exception {
        if (session == null) throw new IllegalStateException("openPage first");
        return send(session, method, params);
    }

    JsonNode page(String method) throws Exception { return page(method, JSON.createObjectNode()); }

    static ObjectNode params() { return JSON.createObjectNode(); }

    /** Evaluates {@code expression} in the page (awaiting a promise) and returns its JSON value. */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = page("Runtime.evaluate", params().put("expression", expression).put("returnByValue", true)
                .put("awaitPromise", true));
        if (r.has("exceptionDetails")) throw new AssertionError("page threw on " + expression + ": " + r.get("exceptionDetails"));
        return r.get("result").path("value");
    }

    private JsonNode send(String sessionId, String method, ObjectNode params) throws Exception {
        int id = nextId.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode().put("id", id).put("method", method);
        msg.set("params", params);
        if (sessionId != null) msg.put("sessionId", sessionId);
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        socket.sendText(JSON.writeValueAsString(msg), true).get(TIMEOUT_S, TimeUnit.SECONDS);
        JsonNode reply = f.get(TIMEOUT_S, TimeUnit.SECONDS);
        if (reply.has("error")) throw new AssertionError(method + " failed: " + reply.get("error"));
        return reply.get("result");
    }

    private static String log(Path profile) {
        try {
            String s = Files.readString(profile.resolve("chromium.log"));
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    @Override
    public void close() throws InterruptedException {
        socket.abort();
        stop();
    }

    /** Ends the browser this started and the helper processes it started (renderer, GPU, zygote). */
    private void stop() throws InterruptedException {
        List<ProcessHandle> children = browser.descendants().toList();
        browser.destroy();
        if (!browser.waitFor(10, TimeUnit.SECONDS)) browser.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        for (ProcessHandle h : children) {
            if (h.isAlive()) h.destroyForcibly();
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                try {
                    JsonNode msg = JSON.readTree(text);
                    if (msg.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(msg.get("id").asInt());
                        if (f != null) f.complete(msg);
                    } else {
                        events.add(msg);
                    }
                } catch (IOException e) {
                    events.add(JSON.createObjectNode().put("method", "unparsable").put("text", text));
                }
            }
            ws.request(1);
            return null;
        }
    }
}
