// The labels and annotations hindsight reads on workloads and pods; every source that meets a pod
// reads them from here.

/** The label that names a workload's component (nginx, shop, redis, postgresql). */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** The annotation on a workload listing the components it calls, comma-separated. */
export const DEPENDS_ON_ANNOTATION = 'hindsight.dev/depends-on';
