// Device — where a tensor's memory lives: the host, or one CUDA device.
package org.transformer4j.runtime;

/** A memory location. {@link #HOST} is the CPU; CUDA devices come from {@code CudaDevice}. */
public interface Device {

    /** Host memory, used by the CPU backend. */
    Device HOST = new Device() {
        @Override public boolean isCuda() { return false; }
        @Override public String name() { return "host"; }
        @Override public String toString() { return "host"; }
    };

    boolean isCuda();

    /** e.g. "host" or "cuda:0 (NVIDIA H100 80GB HBM3)". */
    String name();
}
