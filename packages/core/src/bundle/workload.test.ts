import { describe, expect, it } from 'vitest';
import { looksLikePodName, podOwner, podWorkload, workloadOfPodName } from '../index.js';

const rs = { kind: 'ReplicaSet', name: 'shop-nginx-7f9c6d8b4', controller: true };

describe('which workload owns a pod', () => {
  it('names the Deployment above a ReplicaSet by its pod-template-hash, without the kind', () => {
    const meta = { ownerReferences: [rs], labels: { 'pod-template-hash': '7f9c6d8b4' } };
    expect(podOwner(meta)).toEqual({ kind: 'Deployment', name: 'shop-nginx' });
    expect(podWorkload(meta)).toBe('shop-nginx');
  });

  it('keeps a ReplicaSet whose name does not end in the hash, and prefers the controlling owner', () => {
    expect(podOwner({ ownerReferences: [rs], labels: { 'pod-template-hash': 'other' } })).toEqual({
      kind: 'ReplicaSet',
      name: 'shop-nginx-7f9c6d8b4',
    });
    const refs = [
      { kind: 'Node', name: 'node-a' },
      { kind: 'StatefulSet', name: 'redis', controller: true },
    ];
    expect(podWorkload({ ownerReferences: refs })).toBe('redis');
  });

  it('has no workload for an unowned pod or owner references of the wrong type, and does not throw', () => {
    for (const ownerReferences of [undefined, [], 'x', [null, 7], [{ kind: 'ReplicaSet', name: 5 }]])
      expect(podWorkload({ ownerReferences, labels: 'x' })).toBeUndefined();
    expect(podWorkload(undefined)).toBeUndefined();
  });

  it('guesses the workload from a pod name by the Deployment and StatefulSet conventions', () => {
    expect(workloadOfPodName('shop-nginx-7f9c6d8b4-x2k9p')).toBe('shop-nginx');
    expect(workloadOfPodName('shop-redis-replica-3')).toBe('shop-redis-replica');
    expect(workloadOfPodName('standalone')).toBe('standalone');
    expect(looksLikePodName('standalone')).toBe(false);
    expect(looksLikePodName('ts-order-service-5d8f9c7b6-abcde')).toBe(true);
  });
});
