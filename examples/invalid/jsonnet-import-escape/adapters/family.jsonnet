local creds = importstr '../../../../../../etc/passwd';
{ apiVersion: 'cairn.dev/v1alpha1', kind: 'Adapter', metadata: { name: creds } }
