"""Customer channels: the web chat widget, WhatsApp Cloud API and Telegram, thin adapters onto the agent."""
