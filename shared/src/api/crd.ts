// Builds apiextensions.k8s.io/v1 CustomResourceDefinition objects from the TypeScript schema definitions.
import { toJsonSchema, type TSchema } from './schema.js';
import {
  API_VERSION_DESCRIPTION,
  CATEGORIES,
  GROUP,
  KIND_DESCRIPTION,
  VERSION,
} from './v1alpha1/common.js';

export type PrinterColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

export type PrinterColumn = {
  name: string;
  type: PrinterColumnType;
  jsonPath: string;
  description?: string;
  /** 0 (default) shows the column in `kubectl get`; 1 only with `-o wide`. */
  priority?: number;
  format?: string;
};

/** Everything that defines one kind; buildCrd turns it into the CRD manifest. */
export type CrdDefinition = {
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  /** Shown by `kubectl explain <kind>`. */
  description: string;
  spec: TSchema;
  status: TSchema;
  printerColumns: readonly PrinterColumn[];
};

export type JsonSchemaProps = Record<string, unknown>;

export type CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { plural: string; singular: string; kind: string; listKind: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
};

export function crdName(def: Pick<CrdDefinition, 'plural'>): string {
  return `${def.plural}.${GROUP}`;
}

export function buildCrd(def: CrdDefinition): CustomResourceDefinition {
  const openAPIV3Schema: JsonSchemaProps = {
    description: def.description,
    type: 'object',
    properties: {
      apiVersion: { description: API_VERSION_DESCRIPTION, type: 'string' },
      kind: { description: KIND_DESCRIPTION, type: 'string' },
      // Kubernetes 1.20 refuses anything but `type` here, even a description ("metadata is implicitly specified").
      metadata: { type: 'object' },
      spec: toJsonSchema(def.spec),
      status: toJsonSchema(def.status),
    },
    required: ['spec'],
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(def), labels: { 'app.kubernetes.io/part-of': 'anvil' } },
    spec: {
      group: GROUP,
      names: {
        plural: def.plural,
        singular: def.singular,
        kind: def.kind,
        listKind: `${def.kind}List`,
        shortNames: [...def.shortNames],
        categories: [...CATEGORIES],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
        },
      ],
    },
  };
}
