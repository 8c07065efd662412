// An installer progress event as subiquity and curtin post it to the webhook, after normalize.ts checked it.
export interface InstallerEvent {
  name: string;
  event_type: string;
  description?: string;
  result?: string;
  origin?: string;
  timestamp?: number;
  level?: string;
}
