// BertReferenceAccess — opens the float64 BertReference's erf to model-layer tests in another package.
package org.transformer4j.model.onnx;

public final class BertReferenceAccess {

    private BertReferenceAccess() {}

    public static double erf(double x) { return BertReference.erf(x); }
}
