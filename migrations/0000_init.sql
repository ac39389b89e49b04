CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`role` text NOT NULL,
	`broker` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `alert_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`chat_id` integer NOT NULL,
	`priority` integer NOT NULL,
	`kind` text NOT NULL,
	`text` text NOT NULL,
	`markup` text,
	`approval_id` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text
);
--> statement-breakpoint
CREATE INDEX `alert_outbox_pending_idx` ON `alert_outbox` (`sent_at`,`priority`,`id`);--> statement-breakpoint
CREATE TABLE `approvals` (
	`id` text PRIMARY KEY NOT NULL,
	`leader_order_id` text NOT NULL,
	`state` text NOT NULL,
	`threshold` real,
	`expires_at` integer NOT NULL,
	`messages` text DEFAULT '[]' NOT NULL,
	`text` text DEFAULT '' NOT NULL,
	`decided_by` integer,
	`decided_at` integer,
	`reason` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `approvals_state_idx` ON `approvals` (`state`);--> statement-breakpoint
CREATE INDEX `approvals_leader_idx` ON `approvals` (`leader_order_id`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor_id` integer,
	`role` text NOT NULL,
	`chat_id` integer,
	`action` text NOT NULL,
	`args` text,
	`outcome` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_at_idx` ON `audit_log` (`at`);--> statement-breakpoint
CREATE TABLE `copies` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`leader_order_id` text NOT NULL,
	`follower_id` text NOT NULL,
	`leg` integer DEFAULT 0 NOT NULL,
	`kind` text NOT NULL,
	`state` text NOT NULL,
	`tag` text NOT NULL,
	`segment` text NOT NULL,
	`security_id` text NOT NULL,
	`symbol` text NOT NULL,
	`side` text NOT NULL,
	`order_type` text NOT NULL,
	`product` text NOT NULL,
	`validity` text NOT NULL,
	`amo` integer DEFAULT false NOT NULL,
	`price` real DEFAULT 0 NOT NULL,
	`trigger_price` real DEFAULT 0 NOT NULL,
	`lot_size` integer NOT NULL,
	`planned_qty` integer NOT NULL,
	`lots` real NOT NULL,
	`notional` real,
	`ratio` real,
	`follower_order_id` text,
	`filled_qty` integer DEFAULT 0 NOT NULL,
	`avg_price` real DEFAULT 0 NOT NULL,
	`reason` text,
	`approval_id` text,
	`event_at` integer NOT NULL,
	`leader_exchange_time` integer,
	`request_sent_at` integer,
	`acked_at` integer,
	`filled_at` integer,
	`internal_latency_us` integer,
	`broker_latency_us` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `copies_natural_uq` ON `copies` (`leader_order_id`,`follower_id`,`leg`);--> statement-breakpoint
CREATE UNIQUE INDEX `copies_tag_uq` ON `copies` (`tag`);--> statement-breakpoint
CREATE INDEX `copies_state_idx` ON `copies` (`state`);--> statement-breakpoint
CREATE INDEX `copies_follower_idx` ON `copies` (`follower_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `fills` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`order_id` text NOT NULL,
	`cumulative_qty` integer NOT NULL,
	`qty` integer NOT NULL,
	`price` real NOT NULL,
	`side` text NOT NULL,
	`segment` text NOT NULL,
	`security_id` text NOT NULL,
	`symbol` text NOT NULL,
	`product` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fills_dedupe_uq` ON `fills` (`account_id`,`order_id`,`cumulative_qty`);--> statement-breakpoint
CREATE INDEX `fills_account_idx` ON `fills` (`account_id`,`at`);--> statement-breakpoint
CREATE TABLE `follower_orders` (
	`follower_id` text NOT NULL,
	`order_id` text NOT NULL,
	`copy_id` integer,
	`tag` text,
	`status` text NOT NULL,
	`quantity` integer NOT NULL,
	`filled_qty` integer DEFAULT 0 NOT NULL,
	`avg_price` real DEFAULT 0 NOT NULL,
	`reason` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`follower_id`, `order_id`)
);
--> statement-breakpoint
CREATE INDEX `follower_orders_copy_idx` ON `follower_orders` (`copy_id`);--> statement-breakpoint
CREATE TABLE `instruments` (
	`broker` text NOT NULL,
	`segment` text NOT NULL,
	`security_id` text NOT NULL,
	`symbol` text NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`lot_size` integer NOT NULL,
	`tick_size` real NOT NULL,
	`expiry` text,
	`strike` real,
	`option_type` text,
	`freeze_qty` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`broker`, `segment`, `security_id`)
);
--> statement-breakpoint
CREATE INDEX `instruments_symbol_idx` ON `instruments` (`broker`,`symbol`);--> statement-breakpoint
CREATE TABLE `leader_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`order_id` text NOT NULL,
	`status` text NOT NULL,
	`filled_qty` integer NOT NULL,
	`quantity` integer NOT NULL,
	`price` real NOT NULL,
	`trigger_price` real NOT NULL,
	`source` text NOT NULL,
	`exchange_time` integer,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `leader_events_dedupe_uq` ON `leader_events` (`order_id`,`status`,`filled_qty`,`quantity`,`price`,`trigger_price`);--> statement-breakpoint
CREATE TABLE `leader_orders` (
	`order_id` text PRIMARY KEY NOT NULL,
	`segment` text NOT NULL,
	`security_id` text NOT NULL,
	`symbol` text NOT NULL,
	`side` text NOT NULL,
	`order_type` text NOT NULL,
	`product` text NOT NULL,
	`validity` text NOT NULL,
	`amo` integer DEFAULT false NOT NULL,
	`status` text NOT NULL,
	`quantity` integer NOT NULL,
	`filled_qty` integer DEFAULT 0 NOT NULL,
	`avg_price` real DEFAULT 0 NOT NULL,
	`price` real DEFAULT 0 NOT NULL,
	`trigger_price` real DEFAULT 0 NOT NULL,
	`mirrored` integer DEFAULT false NOT NULL,
	`position_before` integer,
	`first_seen_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` integer
);
--> statement-breakpoint
CREATE TABLE `tokens` (
	`account_id` text PRIMARY KEY NOT NULL,
	`ciphertext` text NOT NULL,
	`obtained_at` integer NOT NULL,
	`expires_at` integer,
	`last_checked_at` integer
);
