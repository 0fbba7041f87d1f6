// DjlTracking — switches off DJL's usage tracking (a call home to AWS instance metadata at
// 169.254.169.254 each day) before any DJL code that could make it runs, without putting DJL into
// offline mode, so users who rely on DJL downloading models keep that.
package org.transformer4j.model.tokenizer;

/**
 * DJL reads {@code OPT_OUT_TRACKING} (environment variable, else system property) each time it
 * would call home (ai.djl.util.Ec2Utils.callHome, run when a Hugging Face tokenizer is created).
 * transformer4j sets the system property to "true" unless the user has set either one themselves;
 * it never sets {@code ai.djl.offline}.
 */
public final class DjlTracking {

    public static final String PROPERTY = "OPT_OUT_TRACKING";

    static {
        optOut();
    }

    private DjlTracking() {}

    /** Idempotent; callers run it before touching DJL. Returns the value DJL will see. */
    public static synchronized String optOut() {
        String env = System.getenv(PROPERTY);
        if (env != null && !env.isEmpty()) return env;
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isEmpty()) return prop;
        System.setProperty(PROPERTY, "true");
        return "true";
    }
}
