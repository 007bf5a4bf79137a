package leader

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

func metaOf(o Options) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name}
}
