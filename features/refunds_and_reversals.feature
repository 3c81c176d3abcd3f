Feature: Refunds and reversals by the operator
  As a shop owner switching card payments from TEST to REAL
  I want my operator to give money back from the console: in full, in parts, or by cancelling a payment the same day
  So that the bank gives back exactly what the operator confirmed, never twice and never more than was paid, and
  Ecwid shows only what the bank really did

  @RC-19 @simulator @desktop
  Scenario: The operator refunds the whole payment: one refund at the bank, Ecwid REFUNDED
    Given a customer shopping in the store on a desktop browser
    When the customer orders 2 "Gata" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    And the Ecwid order is "PAID"
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the operator refunds the whole amount and confirms
    Then the console says "Refund: completed"
    And the bank has refunded the whole amount in 1 refund
    And the bank was sent refund.do 1 time for the order
    And the gateway's refund records of the payment are "completed"
    And the gateway's attempt is "refunded"
    And within 20 seconds Ecwid's order is "REFUNDED"
    And Ecwid accepted the payment statuses "PAID, REFUNDED" in that order
    And the payment page shows the attempt "refunded" and Ecwid "REFUNDED"
    And the console offers no refund or reverse for the payment any more

  @RC-20 @simulator @desktop
  Scenario: Partial refunds: PARTIALLY_REFUNDED, then REFUNDED; an over-refund is refused and changes nothing
    Given a customer shopping in the store on a desktop browser
    When the customer orders 2 "Gata" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the operator refunds 2000.00 AMD and confirms
    Then the console says "Refund: completed"
    And the bank has refunded 2000.00 AMD in 1 refund
    And the gateway's attempt is "partially_refunded"
    And within 20 seconds Ecwid's order is "PARTIALLY_REFUNDED"
    When the operator refunds 4000.50 AMD and confirms
    Then the console says "Refused: the amount is more than what is left to refund."
    And the bank has refunded 2000.00 AMD in 1 refund
    And the bank was sent refund.do 1 time for the order
    And the gateway's refund records of the payment are "completed"
    When the operator refunds what is left and confirms
    Then the console says "Refund: completed"
    And the bank has refunded the whole amount in 2 refunds
    And the bank was sent refund.do 2 times for the order
    And the gateway's refund records of the payment are "completed, completed"
    And the gateway's attempt is "refunded"
    And within 20 seconds Ecwid's order is "REFUNDED"
    And Ecwid accepted the payment statuses "PAID, PARTIALLY_REFUNDED, REFUNDED" in that order

  @RC-21 @simulator @desktop
  Scenario: The operator cancels a payment the same day: reversed at the bank, Ecwid CANCELLED; a second reverse is refused
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Apricot jam" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the operator has the payment's reverse confirmation open in a second tab
    And the operator reverses the payment and confirms
    Then the console says "Done. Attempt: reversed, Ecwid: CANCELLED."
    And the bank order has orderStatus 3
    And within 20 seconds Ecwid's order is "CANCELLED"
    And the console offers no refund or reverse for the payment any more
    When the operator confirms the reverse in the second tab
    Then the console says "Refused: the payment is already reversed."
    And the bank was sent reverse.do 1 time for the order
    And the bank order has orderStatus 3
    And the gateway's attempt is "reversed"
    And Ecwid accepted the payment statuses "PAID, CANCELLED" in that order

  @RC-31 @simulator @desktop
  Scenario: The bank's answer to refund.do is lost after it refunded: the same externalRefundId is resent, one refund
    Given a customer shopping in the store on a desktop browser
    When the customer orders 3 "Lavash" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the bank holds the order's callbacks
    And the bank will lose its answer to the payment's next refund.do after refunding
    And the operator refunds the whole amount and confirms
    Then the console says "Refund: unknown"
    And within 20 seconds the gateway's refund records of the payment are "completed"
    And the bank was sent refund.do 2 times for the order
    And both refund.do calls carried the same externalRefundId
    And the bank has refunded the whole amount in 1 refund
    And within 20 seconds Ecwid's order is "REFUNDED"
    And Ecwid accepted the payment statuses "PAID, REFUNDED" in that order

  @RC-31 @simulator @desktop
  Scenario: The bank accepts a refund and then fails it: the refund is failed, the operator is told, Ecwid never REFUNDED
    Given a customer shopping in the store on a desktop browser
    When the customer orders 3 "Lavash" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the bank will accept the next refund and then fail it
    And the operator refunds the whole amount and confirms
    Then the console says "Refund: failed"
    And the bank lists the refund as FAILED and refunded nothing
    And within 20 seconds the gateway's refund records of the payment are "failed"
    And within 20 seconds the gateway opened an operator exception "refund_failed" for the payment
    And the gateway's attempt is "paid"
    When the operator opens the exceptions queue
    Then the queue shows the open exception "refund_failed" for the payment
    And Ecwid's order is "PAID"
    And Ecwid was never told REFUNDED, not even in a refused update
    And Ecwid was never told PARTIALLY_REFUNDED, not even in a refused update

  @RC-31 @simulator @desktop
  Scenario Outline: An amount of <typed> typed for a refund is refused in the console and never sent to the bank
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Gata" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the operator starts a refund and types "<typed>"
    Then the refund form refuses it with "Invalid amount: enter a positive number with at most two decimals."
    When the operator cancels
    And the operator starts a refund and leaves the amount empty
    Then the confirmation asks to refund the whole amount, not 0
    When the operator cancels
    Then the bank was sent refund.do 0 times for the order
    And the bank has refunded nothing
    And the gateway has no refund record for the payment

    Examples:
      | typed |
      | 0     |
      | 0.00  |
      | -500  |

  @RC-31 @simulator @desktop
  Scenario: A refund form opened before a full refund and sent empty afterwards stands for 0: refused at once, never sent
    Given a customer shopping in the store on a desktop browser
    When the customer orders 1 "Gata" and goes to pay
    And pays on the bank page with card "4242424242424242"
    Then the customer sees the store's thank-you page
    When an operator signs in to the console
    And the operator finds the payment by its Ecwid order id
    And the operator has the payment's refund form open in a second tab
    And the operator refunds the whole amount and confirms
    Then the console says "Refund: completed"
    When the operator submits the second tab's refund form with the amount left empty
    Then the refund form refuses it with "Invalid amount: enter a positive number with at most two decimals."
    And the bank was sent refund.do 1 time for the order
    And the bank has refunded the whole amount in 1 refund
    And the gateway's refund records of the payment are "completed"
