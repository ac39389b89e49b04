CREATE TABLE `alert_group_messages` (
	`leader_order_id` text NOT NULL,
	`chat_id` integer NOT NULL,
	`alert_id` integer,
	`message_id` integer,
	`sent_at` integer,
	`text` text NOT NULL,
	`shown_text` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`leader_order_id`, `chat_id`)
);
--> statement-breakpoint
CREATE INDEX `alert_group_messages_alert_idx` ON `alert_group_messages` (`alert_id`);--> statement-breakpoint
CREATE TABLE `alert_groups` (
	`leader_order_id` text PRIMARY KEY NOT NULL,
	`lines` text DEFAULT '[]' NOT NULL,
	`lot_size` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `alert_groups_updated_idx` ON `alert_groups` (`updated_at`);